"""Fixtures for the agent tier: a real agent with its own TFDASH_HOME and tmux server."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.agent import AgentProcess


@pytest.fixture
def tmux_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A private tmux server for the test (TMUX_TMPDIR), killed afterwards."""
    tmux_dir = tmp_path / "tmux"
    tmux_dir.mkdir()
    env = {"TMUX_TMPDIR": str(tmux_dir)}
    yield env
    if shutil.which("tmux"):
        subprocess.run(
            ["tmux", "kill-server"],
            env={**os.environ, **env},
            stderr=subprocess.DEVNULL,
            check=False,
        )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "tfdash-home"


@pytest.fixture
def agent_factory(home: Path, tmux_env: dict[str, str]) -> Iterator[Callable[..., AgentProcess]]:
    agents: list[AgentProcess] = []

    # An empty HOME: `bash -lc` then reads no rc files of this machine's user (root's
    # .bashrc runs `pyenv rehash`, which waits up to 60 s on a lock a killed job can leave).
    user_home = home.parent / "user-home"
    user_home.mkdir(exist_ok=True)

    def start(env: dict[str, str] | None = None, python: str = sys.executable) -> AgentProcess:
        base = {"HOME": str(user_home), **tmux_env}
        agent = AgentProcess(home, {**base, **(env or {})}, python=python)
        agents.append(agent)
        return agent

    yield start
    # Kill whatever a test left running, so no process outlives the test.
    for state_file in home.glob("jobs/*/state.json"):
        state = json.loads(state_file.read_text() or "{}")
        if state.get("state") in ("starting", "running"):
            with contextlib.suppress(ProcessLookupError, PermissionError, TypeError):
                os.killpg(state.get("pgid"), signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError, TypeError):
                os.kill(state.get("supervisor_pid"), signal.SIGKILL)
    for agent in agents:
        agent.close()


@pytest.fixture
def agent(agent_factory: Callable[..., AgentProcess]) -> AgentProcess:
    return agent_factory()
