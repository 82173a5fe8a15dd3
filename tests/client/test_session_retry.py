"""HostSession.failure and retry_now(): what the dashboard's trust and retry actions use."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from support.sessions import wait_for_state

from remote_agent import protocol
from tfdash.errors import ConnectionFailed, ProtocolMismatch
from tfdash.models import HostState
from tfdash.transport.local import LocalTransport
from tfdash.transport.session import HostSession

WAIT_S = 30.0
SessionFactory = Callable[..., Awaitable[HostSession]]


async def test_a_failed_session_keeps_why_and_retry_now_connects_once_it_is_fixed(
    session_factory: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_version = protocol.PROTOCOL_VERSION
    monkeypatch.setattr(protocol, "PROTOCOL_VERSION", real_version + 1)
    session = await session_factory()  # reconnect=True: FAILED, not retried
    assert session.status.state is HostState.FAILED
    assert isinstance(session.failure, ProtocolMismatch)
    assert session.failure.message == session.status.message

    monkeypatch.setattr(protocol, "PROTOCOL_VERSION", real_version)  # the person upgraded
    await session.retry_now()
    assert session.status.state is HostState.CONNECTED
    assert session.failure is None
    assert await session.call("jobs.list") == {"jobs": []}


async def test_retry_now_starts_over_a_session_without_reconnect(
    home: Path, tmux_env: dict[str, str], tmp_path: Path
) -> None:
    transport = LocalTransport(tfdash_home=home, python=str(tmp_path / "nope"), env=tmux_env)
    session = HostSession("local", transport, reconnect=False)
    try:
        with pytest.raises(ConnectionFailed):
            await session.start()
        assert session.status.state is HostState.FAILED
        assert session.failure is not None and "nope" in session.failure.message
        with pytest.raises(ConnectionFailed):
            await session.retry_now()  # nothing was fixed: the same failure again
        assert session.status.state is HostState.FAILED

        transport.python = sys.executable
        await session.retry_now()
        assert session.status.state is HostState.CONNECTED
        assert session.failure is None
    finally:
        await session.close()


async def test_retry_now_cuts_a_reconnect_wait_short(session_factory: SessionFactory) -> None:
    # The first retry would come 300-600 s after the loss: only retry_now can be quicker.
    session = await session_factory(backoff_initial=600.0)
    info = session.info
    assert info is not None and info.agent_pid is not None
    os.kill(info.agent_pid, signal.SIGKILL)
    waiting = await wait_for_state(session, HostState.RECONNECTING, WAIT_S)
    while waiting.retry_at is None:  # the loss is reported before the wait is planned
        await asyncio.sleep(0.01)
        waiting = session.status
    assert session.failure is None  # reconnecting needs nobody
    await session.retry_now()
    await wait_for_state(session, HostState.CONNECTED, WAIT_S)
    assert time.time() < waiting.retry_at
    new_info = session.info
    assert new_info is not None and new_info.agent_pid != info.agent_pid


async def test_retry_now_leaves_a_connected_session_alone(session_factory: SessionFactory) -> None:
    session = await session_factory()
    before = session.info
    await session.retry_now()
    assert session.status.state is HostState.CONNECTED
    assert session.info == before
