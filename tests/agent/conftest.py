"""Fixtures for the agent tier: a real agent with its own TFDASH_HOME and tmux server."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.agent import AgentProcess
from support.isolation import isolated_env, kill_leftover_jobs, kill_tmux_server


@pytest.fixture
def tmux_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A private tmux server and an empty HOME for the agent (support.isolation)."""
    env = isolated_env(tmp_path)
    yield env
    kill_tmux_server(env)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "tfdash-home"


@pytest.fixture
def agent_factory(home: Path, tmux_env: dict[str, str]) -> Iterator[Callable[..., AgentProcess]]:
    agents: list[AgentProcess] = []

    def start(env: dict[str, str] | None = None, python: str = sys.executable) -> AgentProcess:
        agent = AgentProcess(home, {**tmux_env, **(env or {})}, python=python)
        agents.append(agent)
        return agent

    yield start
    kill_leftover_jobs(home)
    for agent in agents:
        agent.close()


@pytest.fixture
def agent(agent_factory: Callable[..., AgentProcess]) -> AgentProcess:
    return agent_factory()
