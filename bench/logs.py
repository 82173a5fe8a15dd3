"""Log benchmarks: throughput beside ``ssh cat``, rotation beside ``tail -F``, view ingest.

One run on this machine, written under "## Logs" in docs/performance.md with ``--write``:

- Throughput: a generated log of 100-character lines (1 GB by default) read to its end
  through ``logs.read`` pages (8 MiB, as text, base64 and exact) over a real sshd on
  loopback, and saved with ``save_log``, beside ``ssh -F CONFIG bench cat FILE`` on the
  same sshd. CPU seconds of each process (client, sshd, agent) say where time goes;
  ``--profile`` adds cProfile listings of the client and of the agent.
- Lost and duplicated lines under forced rotation (bench/log_rotation.py): ours beside
  GNU ``tail -F`` (inotify and polling) on the same writer and logrotate runs.
- View ingest (bench/log_ingest.py, ``measure_view_ingest``): the log view's
  text model fed 1,000,000 lines with a full scrollback; and the widget itself under a
  flood of 100,000 and 300,000 lines a second, with key latency (bench/log_view.py).

    .venv/bin/python bench/logs.py --write
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from connect import private_home  # noqa: E402
from log_ingest import ingest_section, measure_view_ingest  # noqa: E402
from log_profile import agent_profile, cpu_by_process  # noqa: E402
from log_rotation import rotation_section  # noqa: E402
from log_view import RATES as VIEW_RATES  # noqa: E402
from log_view import measure as measure_view  # noqa: E402
from log_view import section as view_section  # noqa: E402
from perfpage import PAGE, machine, write_section  # noqa: E402
from support.rotation import MODES  # noqa: E402
from support.sshd import SshServer, ensure_test_user, server_root  # noqa: E402

HEADING = "## Logs"
PAGE_BYTES = 8 * 1024 * 1024
LINE = 100
FILE_NAME = "big.log"


def generate_log(path: Path, size: int) -> int:
    """Numbered 100-character lines (99 characters and a newline) up to ``size`` bytes."""
    lines_per_block = 80_000
    filler = "x" * (LINE - 1 - 13)
    written = 0
    number = 0
    with path.open("w", encoding="ascii") as out:
        while written < size:
            block = "".join(f"{n:012d} {filler}\n" for n in range(number, number + lines_per_block))
            number += lines_per_block
            out.write(block)
            written += len(block)
    return written


async def read_pages(session: Any, job_id: str, encoding: str) -> int:
    """Read FILE_NAME to its end with ``logs.read`` pages; how many bytes arrived."""
    from tfdash.services.log_save import page_bytes

    cursor: dict[str, Any] | None = None
    total = 0
    while True:
        params: dict[str, Any] = {"id": job_id, "file": FILE_NAME, "max_bytes": PAGE_BYTES}
        if cursor is not None:
            params["cursor"] = cursor
        if encoding != "text":
            params["encoding"] = encoding
        result = await session.call("logs.read", params, timeout=300)
        if encoding == "text":
            total += len(result["text"])  # ASCII: one character is one byte
        else:
            total += len(page_bytes(result))
        cursor = result["cursor"]
        if result["eof"]:
            return total


async def supports(session: Any, job_id: str, encoding: str) -> bool:
    """Whether the agent accepts ``encoding`` for ``logs.read`` (older ones refuse it)."""
    from tfdash.errors import AgentError

    params = {"id": job_id, "file": FILE_NAME, "max_bytes": 16, "encoding": encoding}
    try:
        await session.call("logs.read", params)
    except AgentError as exc:
        print(f"logs.read encoding={encoding} not available: {exc}", file=sys.stderr)
        return False
    return True


async def save_whole(session: Any, job_id: str, dest: Path) -> int:
    from tfdash.services.logs import save_log

    saved = await save_log(session, job_id, dest, file=FILE_NAME, overwrite=True)
    dest.unlink()
    return saved.bytes_written


def ssh_cat(config: Path, path: Path, dest: Path | None = None) -> float:
    """Seconds for `ssh bench cat PATH` into /dev/null, or into ``dest`` (then removed)."""
    started = time.perf_counter()
    with open(dest or os.devnull, "wb") as out:
        command = ["ssh", "-F", str(config), "bench", "cat", str(path)]
        subprocess.run(command, check=True, stdout=out)
        if dest is not None:
            os.fsync(out.fileno())  # as save_log does before it renames
    if dest is not None:
        dest.unlink()
    return time.perf_counter() - started


async def throughput(
    server: SshServer, config: Path, log: Path, runs: int, scratch: Path, profile: bool
) -> dict[str, Any]:
    """Interleaved runs of ssh cat and of each way tfdash reads the log; MB/s and CPU."""
    from tfdash.config import HostConfig
    from tfdash.models import JobSpec, LaunchMode
    from tfdash.services.jobs import JobsService
    from tfdash.transport.session import HostSession
    from tfdash.transport.ssh import SshTransport

    host = HostConfig(
        name="bench",
        host="127.0.0.1",
        port=server.port,
        user=server.user,
        identity=server.client_key,
        tfdash_home=str(server.root / "tfdash-home"),
    )
    session = HostSession("bench", SshTransport(host))
    await session.start()
    size = log.stat().st_size
    seconds: dict[str, list[float]] = {}
    cpu: dict[str, dict[str, float]] = {}
    try:
        jobs = JobsService(session)
        job = await jobs.launch(
            JobSpec(name="bench", command="true", cwd=str(log.parent), mode=LaunchMode.NOHUP)
        )
        await jobs.wait(job.id, timeout=60)
        agent_pid = session.info.agent_pid if session.info else None
        ways: dict[str, Callable[[], Awaitable[int]]] = {
            "text": lambda: read_pages(session, job.id, "text")
        }
        for encoding in ("base64", "exact"):
            if await supports(session, job.id, encoding):
                ways[encoding] = partial(read_pages, session, job.id, encoding)
        ways["save_log"] = lambda: save_whole(session, job.id, scratch / "saved.log")
        for _ in range(runs):
            seconds.setdefault("ssh cat", []).append(ssh_cat(config, log))
            saved = scratch / "ssh-cat.log"
            seconds.setdefault("ssh cat to file", []).append(ssh_cat(config, log, saved))
            for name, way in ways.items():
                before = cpu_by_process(server.proc.pid if server.proc else 0, agent_pid)
                started = time.perf_counter()
                got = await way()
                seconds.setdefault(name, []).append(time.perf_counter() - started)
                after = cpu_by_process(server.proc.pid if server.proc else 0, agent_pid)
                if got != size:
                    raise RuntimeError(f"{name}: read {got} bytes of {size}")
                cpu[name] = {key: after[key] - before.get(key, 0.0) for key in after}
        if profile:
            for name, way in ways.items():
                print(f"\n### client cProfile, {name} (1 pass)\n", file=sys.stderr)
                profiler = cProfile.Profile()
                profiler.enable()
                await way()
                profiler.disable()
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(12)
    finally:
        await session.close()
    return {"size": size, "seconds": seconds, "cpu": cpu}


def throughput_table(result: dict[str, Any], runs: int) -> str:
    size = result["size"]
    seconds: dict[str, list[float]] = result["seconds"]
    cat = statistics.median(seconds["ssh cat"])
    labels = {
        "ssh cat": "`ssh bench cat FILE > /dev/null` (OpenSSH client)",
        "ssh cat to file": "`ssh bench cat FILE > local.log` (OpenSSH client, fsync)",
        "text": "tfdash `logs.read` pages, text (JSON strings)",
        "base64": 'tfdash `logs.read` pages, `encoding: "base64"`',
        "exact": 'tfdash `logs.read` pages, `encoding: "exact"` (text when UTF-8)',
        "save_log": "tfdash `save_log` to a local file (exact pages, written to disk)",
    }
    rows = []
    for name, values in seconds.items():
        median = statistics.median(values)
        # Writing to disk is compared with ssh cat writing to disk; the rest with /dev/null.
        base = (
            statistics.median(seconds["ssh cat to file"])
            if name in ("save_log", "ssh cat to file")
            else cat
        )
        spent = result["cpu"].get(name)
        cpu, busy = "—", "—"
        if spent:
            parts = [spent.get(key, 0.0) for key in ("client", "sshd", "agent")]
            cpu = " / ".join(f"{part:.1f}" for part in parts)
            busy = f"{sum(parts) / values[-1]:.2f}"
        rows.append(
            f"| {labels[name]} | {size / median / 1e6:.0f} MB/s | {base / median:.0%} "
            f"| {min(values):.1f} to {max(values):.1f} s | {cpu} | {busy} |"
        )
    missing = (
        ""
        if "exact" in seconds
        else '\nThe agent did not accept `encoding: "exact"` when this ran.\n'
    )
    return (
        f"{size / 1e9:.2f} GB of 100-character lines, cached in memory, read to the end over\n"
        "a real sshd on 127.0.0.1, median of\n"
        f"{runs} interleaved runs. CPU is seconds of user + system time in the last run, by\n"
        "process: the client (this Python process), the sshd session processes, the agent;\n"
        "*cores busy* is their sum over that run's wall time (the machine has 2 cores).\n"
        f"{missing}\n"
        "| what | throughput | of ssh cat | range | CPU s: client / sshd / agent | cores busy |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "Each page is one request and one reply of up to 8 MiB, and the client can ask for\n"
        "the next page only once the reply (with its cursor) has arrived. So that the agent\n"
        "does not idle meanwhile, it reads and encodes the next page while a full one is on\n"
        "the wire and answers the matching request from it (remote_agent/readahead.py), and\n"
        "it splices text into the reply escaped with `bytes.replace` instead of `json.dumps`\n"
        "(remote_agent/wire.py). What is left is mostly the client, one Python thread that\n"
        "decrypts (asyncssh), splits lines and parses JSON while the agent and sshd work\n"
        "beside it. base64 costs a third more bytes on the wire and about 1.7 s/GB to\n"
        "decode; `exact` (what `save_log` uses) sends a page as text when it is valid UTF-8\n"
        "and as base64 otherwise, so a save stays byte for byte. `ssh cat` streams, with\n"
        "`cat`, sshd and ssh working at the same time. OpenSSH's client negotiates its\n"
        "default, chacha20-poly1305; tfdash prefers AES-GCM (tfdash/transport/ssh_connect.py\n"
        "`CIPHERS`), which with AES-NI costs its single Python thread about half the CPU of\n"
        "chacha20 (asyncssh's default). Saving writes to this machine's ext4 disk, so its\n"
        "fair comparison is `ssh cat` into a file, the second row: both rows that write a\n"
        "file give their share of that row, the others of the first.\n"
    )


def prepare_server(scratch: Path) -> tuple[SshServer, Path, Path]:
    server = SshServer(server_root())
    server.user = ensure_test_user() or server.user
    server.start()
    for name in ("tfdash-home", "logs"):
        directory = server.root / name
        directory.mkdir(mode=0o700 if name == "tfdash-home" else 0o755)
        shutil.chown(directory, server.user, server.user)
    os.environ["HOME"] = str(scratch / "home")
    os.environ["XDG_CACHE_HOME"] = str(scratch / "cache")
    os.environ.pop("SSH_AUTH_SOCK", None)
    config = private_home(server, scratch / "home")
    return server, config, server.root / "logs" / FILE_NAME


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the generated log")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile client and agent")
    parser.add_argument("--skip", action="append", default=[], choices=["throughput", "rotation"])
    parser.add_argument(
        "--mode", action="append", choices=list(MODES), help="rotation modes (default: all)"
    )
    parser.add_argument("--write", action="store_true", help=f"update {PAGE.relative_to(REPO)}")
    args = parser.parse_args()
    parts = [f"{HEADING}\n\n`bench/logs.py --runs {args.runs}`. Machine: {machine()}.\n"]
    if "throughput" not in args.skip:
        scratch = Path(tempfile.mkdtemp(prefix="tfdash-bench-"))
        server, config, log = prepare_server(scratch)
        try:
            generate_log(log, args.size_mb * 1024 * 1024)
            shutil.chown(log, server.user, server.user)
            result = asyncio.run(throughput(server, config, log, args.runs, scratch, args.profile))
            if args.profile:
                agent_profile(log, min(log.stat().st_size, 256 * 1024 * 1024), PAGE_BYTES)
        finally:
            server.stop()
            shutil.rmtree(server.root, ignore_errors=True)
            shutil.rmtree(scratch, ignore_errors=True)
        parts.append("### Throughput\n\n" + throughput_table(result, args.runs))
    if "rotation" not in args.skip:
        parts.append(rotation_section(args.mode or list(MODES)))
    parts.append(ingest_section(measure_view_ingest()))
    parts.append(view_section([asyncio.run(measure_view(rate)) for rate in VIEW_RATES]))
    section = "\n".join(parts)
    print(section)
    if args.write:
        write_section(HEADING, section)
        print(f"written to {PAGE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
