"""Connect + handshake to an already bootstrapped host, beside ``ssh host true``.

Starts a real sshd on loopback (as the unprivileged test user when run as root), writes
one ssh_config both clients read, bootstraps the agent once, then times N interleaved
runs of each:

- ``ssh -F CONFIG bench true``: the OpenSSH client's connect, auth and one command;
- tfdash: ``SshTransport.open()`` (connect, bootstrap check, agent start) + ``hello``,
  split into its phases.

Prints a markdown table; ``--write`` also puts it under "## Connect" in
docs/performance.md (the other sections of that page are left as they are).

    .venv/bin/python bench/connect.py --runs 20 --write
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from perfpage import PAGE, write_section  # noqa: E402
from support.sshd import SshServer, ensure_test_user, server_root  # noqa: E402

# The key exchange asyncssh negotiates with OpenSSH 9.2 (it has no sntrup761, OpenSSH's
# default, which costs about 100 ms of CPU per connect on the reference machine).
SAME_KEX = ("-o", "KexAlgorithms=curve25519-sha256")
HEADING = "## Connect"


@dataclass
class Timings:
    """Seconds per run, by what was measured."""

    rows: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.rows.setdefault(name, []).append(seconds)


def private_home(server: SshServer, home: Path) -> Path:
    """A HOME with known_hosts trusting the sshd, and an ssh_config naming it ``bench``."""
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(parents=True, mode=0o700)
    (ssh_dir / "known_hosts").write_text(server.known_hosts_line())
    config = ssh_dir / "config"
    config.write_text(
        "Host bench\n"
        "  HostName 127.0.0.1\n"
        f"  Port {server.port}\n"
        f"  User {server.user}\n"
        f"  IdentityFile {server.client_key}\n"
        "  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {ssh_dir / 'known_hosts'}\n"
        "  StrictHostKeyChecking yes\n"
        "  BatchMode yes\n"
    )
    config.chmod(0o600)
    return config


def time_openssh(config: Path, *options: str) -> float:
    started = time.perf_counter()
    subprocess.run(["ssh", "-F", str(config), *options, "bench", "true"], check=True)
    return time.perf_counter() - started


async def time_tfdash(timings: Timings, server: SshServer) -> bool:
    """One connect + bootstrap check + agent start + hello; returns whether it uploaded."""
    import asyncssh

    from tfdash.config import HostConfig
    from tfdash.transport.bootstrap import ensure_agent
    from tfdash.transport.handshake import say_hello
    from tfdash.transport.rpc import RpcClient
    from tfdash.transport.ssh import SshTransport

    # The same host, user, key and known_hosts file as the ssh_config OpenSSH reads.
    host = HostConfig(
        name="bench",
        host="127.0.0.1",
        port=server.port,
        user=server.user,
        identity=server.client_key,
    )
    marks: dict[str, float] = {}
    uploaded = False

    async def timed_bootstrap(
        conn: asyncssh.SSHClientConnection, config: HostConfig, where: str
    ) -> list[str]:
        nonlocal uploaded
        marks["connected"] = time.perf_counter()
        command = await ensure_agent(
            conn,
            python=config.python,
            tfdash_home=config.tfdash_home,
            cache_key=where,
        )
        uploaded = command.uploaded
        marks["bootstrapped"] = time.perf_counter()
        return command.argv

    started = time.perf_counter()
    channel = await SshTransport(host, start_agent=timed_bootstrap).open()
    rpc = RpcClient(channel)
    rpc.start()
    try:
        await say_hello(rpc, "bench")
        done = time.perf_counter()
    finally:
        await rpc.close()
    timings.add("tfdash total", done - started)
    timings.add("connect", marks["connected"] - started)
    timings.add("bootstrap", marks["bootstrapped"] - marks["connected"])
    timings.add("agent", done - marks["bootstrapped"])
    return uploaded


def markdown(timings: Timings, runs: int, server: SshServer) -> str:
    def cell(name: str) -> str:
        values = timings.rows[name]
        return (
            f"{statistics.median(values) * 1000:.0f} ms | "
            f"{min(values) * 1000:.0f} to {max(values) * 1000:.0f} ms"
        )

    openssh = subprocess.run(
        ["ssh", "-V"], check=False, capture_output=True, text=True
    ).stderr.strip()
    return (
        f"{HEADING}\n\n"
        f"Connect + handshake to an already bootstrapped host, beside `ssh host true` on the\n"
        f"same sshd: `bench/connect.py --runs {runs}` (the three interleaved, median of {runs}).\n"
        f"Machine: {platform.node()}, {os.cpu_count()} cores, {platform.platform()}, Python\n"
        f"{platform.python_version()}, {openssh.split(',')[0]} client and server on 127.0.0.1,\n"
        f"logged in as `{server.user}` (a bash login shell whose rc files return early when\n"
        f"not interactive: with pyenv in them, add about 115 ms per remote command).\n\n"
        "| what | median | range |\n"
        "|---|---|---|\n"
        f"| `ssh -F config bench true` (OpenSSH, its default key exchange) | {cell('openssh')} |\n"
        f"| the same with `-o KexAlgorithms=curve25519-sha256` (what asyncssh negotiates) "
        f"| {cell('openssh curve25519')} |\n"
        f"| tfdash: connect, bootstrap check, start the agent, `hello` | {cell('tfdash total')} |\n"
        f"| … of which SSH connect + auth (asyncssh, host key checked) | {cell('connect')} |\n"
        f"| … of which bootstrap check (remote Python, agent.pyz present: one command) "
        f"| {cell('bootstrap')} |\n"
        f"| … of which agent start (exec channel) + `hello` round trip | {cell('agent')} |\n\n"
        "The bootstrap check is one remote command (the Python was remembered at the first\n"
        "connect); the agent start is a second one. Most of the agent start is Python itself:\n"
        "modules imported from a zipapp are compiled at every start (zipimport writes no\n"
        "bytecode cache).\n"
    )


async def measure(runs: int, config: Path, server: SshServer) -> Timings:
    timings = Timings()
    if await time_tfdash(Timings(), server):  # the first connect may upload: not measured
        print("bootstrapped the agent (uploaded once)", file=sys.stderr)
    for _ in range(runs):
        timings.add("openssh", time_openssh(config))
        timings.add("openssh curve25519", time_openssh(config, *SAME_KEX))
        if await time_tfdash(timings, server):
            raise RuntimeError("an already bootstrapped host was uploaded to again")
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--write", action="store_true", help=f"update {PAGE.relative_to(REPO)}")
    args = parser.parse_args()
    if not shutil.which("ssh"):
        parser.error("needs the OpenSSH client (ssh)")
    server = SshServer(server_root())
    server.user = ensure_test_user() or server.user
    server.start()
    scratch = Path(tempfile.mkdtemp(prefix="tfdash-bench-"))
    # asyncssh reads ~/.ssh from $HOME; the python cache goes to a scratch dir too.
    os.environ["HOME"] = str(scratch / "home")
    os.environ["XDG_CACHE_HOME"] = str(scratch / "cache")
    os.environ.pop("SSH_AUTH_SOCK", None)  # both clients offer the one key file only
    try:
        config = private_home(server, scratch / "home")
        timings = asyncio.run(measure(args.runs, config, server))
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    section = markdown(timings, args.runs, server)
    print(section)
    if args.write:
        write_section(HEADING, section)
        print(f"written to {PAGE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
