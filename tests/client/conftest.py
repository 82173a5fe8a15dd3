"""Fixtures for the client tier: HostSessions to a real local agent, isolated per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.isolation import isolated_env, kill_leftover_jobs, kill_tmux_server

from tfdash.transport.local import LocalTransport
from tfdash.transport.session import HostSession

SessionFactory = Callable[..., Awaitable[HostSession]]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "tfdash-home"


@pytest.fixture
def tmux_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The agent's isolation: a private tmux server and an empty HOME (support.isolation)."""
    env = isolated_env(tmp_path)
    yield env
    kill_tmux_server(env)


@pytest.fixture
async def session_factory(home: Path, tmux_env: dict[str, str]) -> AsyncIterator[SessionFactory]:
    """Starts HostSessions to a local agent with this test's TFDASH_HOME; closes them after."""
    sessions: list[HostSession] = []

    async def start(**options: Any) -> HostSession:
        transport_options = {key: options.pop(key) for key in ("python", "env") if key in options}
        transport_options["env"] = {**tmux_env, **transport_options.get("env", {})}
        options.setdefault("backoff_initial", 0.1)
        options.setdefault("ping_interval", 1.0)
        session = HostSession(
            "local", LocalTransport(tfdash_home=home, **transport_options), **options
        )
        sessions.append(session)
        await session.start()
        return session

    yield start
    for session in sessions:
        await session.close()
    kill_leftover_jobs(home)


@pytest.fixture
async def session(session_factory: SessionFactory) -> HostSession:
    return await session_factory()
