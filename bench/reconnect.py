"""How fast a dead link is noticed, and how fast a followed log resumes after it.

A real sshd on loopback behind a fault-injecting TCP proxy. With tfdash's production
settings (SSH keepalive 1 s x 3, an application ping every 3 s, backoff from 0.5 s):

- freeze → disconnected: the proxy stops forwarding (a blackhole: a closed laptop lid, a
  dead Wi-Fi); the time until the host leaves "connected". Beside it, the OpenSSH client
  with SkyPilot's options (ServerAliveInterval=5, ServerAliveCountMax=3) and with its
  defaults, running a remote `sleep`, timed until it exits.
- link back → stream resumed: a job prints a line every 10 ms and tfdash follows it;
  after a freeze or a reset, the time from the link working again to the first line
  that arrives on the new connection, with the backoff step it waited (part of it).

    .venv/bin/python bench/reconnect.py --runs 5 --write
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from perfpage import machine, write_section  # noqa: E402
from support.faultproxy import FaultProxy  # noqa: E402
from support.sshd import SshServer, ensure_test_user, server_root  # noqa: E402

HEADING = "## Reconnect"
OPENSSH_GIVE_UP_S = 60.0
SEQUENCE = "i=0; while true; do i=$((i+1)); echo seq-$i; sleep 0.01; done"


def ssh_command(server: SshServer, port: int, known_hosts: Path, *options: str) -> list[str]:
    return [
        "ssh", "-F", "/dev/null", "-p", str(port), "-i", str(server.client_key),
        "-o", f"UserKnownHostsFile={known_hosts}", "-o", "BatchMode=yes",
        *options, f"{server.user}@127.0.0.1", "sleep 600",
    ]  # fmt: skip


def openssh_detection(server: SshServer, known_hosts: Path, *options: str) -> float | None:
    """Seconds from a freeze until `ssh ... sleep 600` exits (None: not within the cap)."""
    proxy = FaultProxy("127.0.0.1", server.port).start()
    known_hosts.write_text(server.known_hosts_line().replace(str(server.port), str(proxy.port)))
    process = subprocess.Popen(ssh_command(server, proxy.port, known_hosts, *options))
    try:
        deadline = time.monotonic() + 10
        while proxy.connections == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # logged in, `sleep 600` running
        proxy.freeze()
        frozen = time.monotonic()
        try:
            process.wait(OPENSSH_GIVE_UP_S)
        except subprocess.TimeoutExpired:
            return None
        return time.monotonic() - frozen
    finally:
        process.kill()
        process.wait()
        proxy.close()


async def tfdash_runs(server: SshServer, home: Path, runs: int) -> dict[str, list[float]]:
    from tfdash.config import HostConfig
    from tfdash.models import HostState, HostStatus, JobSpec, LaunchMode
    from tfdash.services.jobs import JobsService
    from tfdash.services.logs import LogFollower
    from tfdash.transport.hosts import SSH_PING_INTERVAL_S
    from tfdash.transport.session import HostSession
    from tfdash.transport.ssh import SshTransport

    proxy = FaultProxy("127.0.0.1", server.port).start()
    known_hosts = home / ".ssh" / "known_hosts"
    known_hosts.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    known_hosts.write_text(server.known_hosts_line().replace(str(server.port), str(proxy.port)))
    host = HostConfig(
        name="bench",
        host="127.0.0.1",
        port=proxy.port,
        user=server.user,
        identity=server.client_key,
        tfdash_home=str(server.root / "tfdash-home"),
    )
    session = HostSession("bench", SshTransport(host), ping_interval=SSH_PING_INTERVAL_S)
    results: dict[str, list[float]] = {}
    marks: dict[str, float] = {}

    def on_status(status: HostStatus) -> None:
        if status.state is not HostState.CONNECTED and "lost" not in marks:
            marks["lost"] = time.monotonic()
        if status.retry_at is not None and "backoff" not in marks:
            marks["backoff"] = status.retry_at - time.time()

    session.subscribe_status(on_status)
    await session.start()
    jobs = JobsService(session)
    job = await jobs.launch(JobSpec(name="seq", command=SEQUENCE, mode=LaunchMode.NOHUP))
    resumed = asyncio.Event()

    async def follow() -> None:
        async for chunk in LogFollower(session, job.id):
            if chunk.reconnected:
                marks["resumed"] = time.monotonic()
                resumed.set()

    follower = asyncio.create_task(follow())
    try:
        for run in range(runs * 2):
            fault = "freeze" if run % 2 == 0 else "reset"
            await asyncio.sleep(1.0)
            marks.clear()
            resumed.clear()
            if fault == "freeze":
                proxy.freeze()
                started = time.monotonic()
                while "lost" not in marks:
                    await asyncio.sleep(0.01)
                results.setdefault("detect", []).append(marks["lost"] - started)
                await asyncio.sleep(0.5)
                proxy.thaw()
            else:
                proxy.abort()
            back = time.monotonic()
            await asyncio.wait_for(resumed.wait(), 60)
            results.setdefault(f"resume {fault}", []).append(marks["resumed"] - back)
            if "backoff" in marks:
                results.setdefault(f"backoff {fault}", []).append(marks["backoff"])
        await jobs.stop(job.id, grace_s=2)
        await asyncio.wait_for(follower, 60)
    finally:
        await session.close()
        proxy.close()
    return results


def cell(values: list[float] | None) -> str:
    if not values:
        return "— | —"
    return f"{statistics.median(values):.2f} s | {min(values):.2f} to {max(values):.2f} s"


def markdown(
    tfdash: dict[str, list[float]], openssh: dict[str, list[float | None]], runs: int
) -> str:
    def openssh_cell(values: list[float | None]) -> str:
        seen = [v for v in values if v is not None]
        missed = len(values) - len(seen)
        if missed:
            return f"not within {OPENSSH_GIVE_UP_S:.0f} s ({missed} of {len(values)}) | —"
        return cell(seen)

    detect = cell(tfdash.get("detect"))

    return (
        f"{HEADING}\n\n"
        f"`bench/reconnect.py --runs {runs}`: a real sshd on 127.0.0.1 behind a fault-injecting\n"
        "TCP proxy that either stops forwarding (a freeze: a closed laptop lid, dead Wi-Fi) or\n"
        "resets its connections. tfdash runs with its production settings: SSH keepalive\n"
        "1 s x 3, an application ping every 3 s, reconnect backoff from 0.5 s (jittered,\n"
        f"capped at 10 s). Machine: {machine()}.\n\n"
        "| what | median | range |\n"
        "|---|---|---|\n"
        f"| tfdash: freeze → host shown disconnected (goal ≤ 6 s) | {detect} |\n"
        f"| `ssh -o ServerAliveInterval=5 -o ServerAliveCountMax=3` (SkyPilot's options): "
        f"freeze → ssh exits | {openssh_cell(openssh['skypilot'])} |\n"
        f"| `ssh` with its defaults: freeze → ssh exits | {openssh_cell(openssh['default'])} |\n"
        f"| tfdash: link back after a freeze → followed log flowing again "
        f"| {cell(tfdash.get('resume freeze'))} |\n"
        f"| tfdash: reset → followed log flowing again | {cell(tfdash.get('resume reset'))} |\n"
        f"| … of which the first backoff step it waited (after a reset) "
        f"| {cell(tfdash.get('backoff reset'))} |\n\n"
        "Resuming is: the backoff step, an SSH connect, the bootstrap check (one remote\n"
        "command), the agent start and `hello`, and re-subscribing from the last cursor (see\n"
        '"Connect" for the parts). After a freeze, the attempt already waiting on the dead\n'
        'link goes through the moment the link works again. mosh shows its "connection lost"\n'
        "banner after about 6.5 s (not measured here: it needs UDP to the host).\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    server = SshServer(server_root())
    server.user = ensure_test_user() or server.user
    server.start()
    remote_home = server.root / "tfdash-home"
    remote_home.mkdir(mode=0o700)
    shutil.chown(remote_home, server.user, server.user)
    scratch = Path(tempfile.mkdtemp(prefix="tfdash-bench-"))
    os.environ["HOME"] = str(scratch / "home")
    os.environ["XDG_CACHE_HOME"] = str(scratch / "cache")
    os.environ.pop("SSH_AUTH_SOCK", None)
    try:
        tfdash = asyncio.run(tfdash_runs(server, scratch / "home", args.runs))
        known = scratch / "openssh_known_hosts"
        openssh: dict[str, list[float | None]] = {"skypilot": [], "default": []}
        for _ in range(args.runs):
            openssh["skypilot"].append(
                openssh_detection(
                    server, known, "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"
                )
            )
        openssh["default"].append(openssh_detection(server, known))
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    section = markdown(tfdash, openssh, args.runs)
    print(section)
    if args.write:
        write_section(HEADING, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
