"""Where the time of a log read goes: CPU seconds by process, and the agent under cProfile.

``cpu_by_process`` reads user + system time from /proc for the sshd's descendants (the
session processes and the agent started through them) and ``getrusage`` for this
process (the client). ``agent_profile`` runs the agent over pipes under cProfile and
reads a log through ``logs.read`` pages, to see what the agent spends on each page.
"""

from __future__ import annotations

import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, str, float] | None:
    """(parent pid, command name, CPU seconds) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return int(fields[1]), name, (int(fields[11]) + int(fields[12])) / TICKS


def descendants(root: int) -> dict[int, tuple[str, float]]:
    """Every process below ``root``: pid → (command name, CPU seconds)."""
    table: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            table[int(entry.name)] = stat
    found: dict[int, tuple[str, float]] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, name, cpu) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = (name, cpu)
                frontier.append(pid)
    return found


def cpu_by_process(sshd_pid: int, agent_pid: int | None) -> dict[str, float]:
    """CPU seconds so far of the client, the sshd session processes and the agent."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    totals = {"client": usage.ru_utime + usage.ru_stime, "sshd": 0.0, "agent": 0.0, "other": 0.0}
    for pid, (name, cpu) in descendants(sshd_pid).items():
        if pid == agent_pid:
            totals["agent"] += cpu
        elif name.startswith("sshd"):
            totals["sshd"] += cpu
        else:
            totals["other"] += cpu
    return totals


def _call(stdin: IO[bytes], stdout: IO[bytes], ident: int, method: str, params: Any) -> Any:
    request = {"jsonrpc": "2.0", "id": ident, "method": method, "params": params}
    stdin.write(json.dumps(request).encode() + b"\n")
    stdin.flush()
    while True:
        message = json.loads(stdout.readline())
        if message.get("id") == ident:
            if "error" in message:
                raise RuntimeError(f"{method}: {message['error']}")
            return message["result"]


# The agent answers each request in a thread of its own: profile every thread, merge.
PROFILED_AGENT = """
import atexit, cProfile, pstats, runpy, sys, threading
output = sys.argv[1]
profiles = []
plain_run = threading.Thread.run
def profiled_run(self):
    profile = cProfile.Profile()
    profiles.append(profile)
    profile.runcall(plain_run, self)
threading.Thread.run = profiled_run
def dump():
    stats = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        stats.add(profile)
    stats.dump_stats(output)
atexit.register(dump)
sys.argv = ["remote_agent", "serve"]
profiles.append(cProfile.Profile())
profiles[-1].runcall(runpy.run_module, "remote_agent", run_name="__main__")
"""


def agent_profile(log: Path, limit: int, page_bytes: int) -> None:
    """Print the agent's cProfile (by own time) for reading ``limit`` bytes of ``log``."""
    home = Path(tempfile.mkdtemp(prefix="tfdash-bench-agent-"))
    output = home / "agent.prof"
    env = {**os.environ, "TFDASH_HOME": str(home), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", PROFILED_AGENT, str(output)]
    agent = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=str(REPO)
    )
    assert agent.stdin is not None and agent.stdout is not None
    launch = {"name": "p", "command": "true", "cwd": str(log.parent), "mode": "nohup"}
    job = _call(agent.stdin, agent.stdout, 1, "jobs.launch", launch)
    read = 0
    ident = 2
    cursor = None
    while read < limit:
        params = {"id": job["id"], "file": log.name, "max_bytes": page_bytes, "cursor": cursor}
        result = _call(agent.stdin, agent.stdout, ident, "logs.read", params)
        ident += 1
        read += len(result["text"])
        cursor = result["cursor"]
        if result["eof"]:
            break
    agent.stdin.close()
    agent.wait(30)
    print(f"\n### agent cProfile: {read / 1e6:.0f} MB as text pages\n", file=sys.stderr)
    pstats.Stats(str(output), stream=sys.stderr).sort_stats("tottime").print_stats(15)
    shutil.rmtree(home, ignore_errors=True)
