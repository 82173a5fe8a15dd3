"""Jobs with known output for the log tests, and the agent-side measurements they need."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from support.agent import AgentProcess


def finished_job(agent: AgentProcess, command: str, **spec: Any) -> tuple[str, Path]:
    """Run ``command`` to its end; the job's id and directory."""
    job = agent.call("jobs.launch", {"name": "log", "command": command, "mode": "nohup", **spec})
    agent.wait_final(job["id"])
    return str(job["id"]), Path(job["job_dir"])


def numbered(first: int, last: int) -> list[str]:
    return [f"line-{i}" for i in range(first, last + 1)]


SEQ_COMMAND = "for i in $(seq 1 {n}); do echo line-$i; done"


def proc_field(pid: int, name: str, table: str = "status") -> int:
    """A number from /proc/<pid>/status (kB fields) or /proc/<pid>/io."""
    for row in Path(f"/proc/{pid}/{table}").read_text().splitlines():
        key, _, value = row.partition(":")
        if key == name:
            return int(value.split()[0])
    raise AssertionError(f"no {name} in /proc/{pid}/{table}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")
