"""A tmux-mode job names its tmux server's socket, so an attach reaches exactly that server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support.agent import AgentProcess

pytestmark = pytest.mark.tmux


def test_a_tmux_job_reports_the_socket_of_its_session(
    agent: AgentProcess, tmux_env: dict[str, str]
) -> None:
    job = agent.call("jobs.launch", {"name": "t", "command": "sleep 30", "mode": "tmux"})
    socket = job["tmux_socket"]
    assert isinstance(socket, str)
    assert Path(socket).is_relative_to(tmux_env["TMUX_TMPDIR"])
    # Reachable with -S from an environment whose TMUX_TMPDIR points elsewhere.
    elsewhere = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_TMPDIR")}
    has = subprocess.run(
        ["tmux", "-S", socket, "has-session", "-t", job["tmux_session"]],
        env=elsewhere,
        check=False,
    )
    assert has.returncode == 0
    assert agent.call("jobs.get", {"id": job["id"]})["tmux_socket"] == socket
    agent.call("jobs.stop", {"id": job["id"], "grace_s": 2})


def test_a_nohup_job_has_no_tmux_socket(agent: AgentProcess) -> None:
    job = agent.call("jobs.launch", {"name": "t", "command": "true", "mode": "nohup"})
    assert job["tmux_session"] is None
    assert job["tmux_socket"] is None
