"""LocalTransport + HostSession against the real agent: hello, reconnect, failures."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import stat
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from remote_agent import protocol
from tfdash.errors import ConnectionFailed, ProtocolMismatch, UsageError
from tfdash.models import HostState, HostStatus
from tfdash.transport.local import LocalTransport
from tfdash.transport.manager import HostManager, local_manager
from tfdash.transport.session import HostSession

WAIT_S = 30.0
SessionFactory = Callable[..., Awaitable[HostSession]]


async def wait_for_status(
    session: HostSession, predicate: object, seen: list[HostStatus]
) -> HostStatus:
    """Wait until a published status satisfies ``predicate``; ``seen`` collects them all."""
    assert callable(predicate)
    matched: asyncio.Future[HostStatus] = asyncio.get_running_loop().create_future()

    def on_status(status: HostStatus) -> None:
        seen.append(status)
        if predicate(status) and not matched.done():
            matched.set_result(status)

    unsubscribe = session.subscribe_status(on_status)
    try:
        if predicate(session.status):
            return session.status
        return await asyncio.wait_for(matched, WAIT_S)
    finally:
        unsubscribe()


async def test_hello_reports_the_agent(session: HostSession, home: Path) -> None:
    assert session.status.state is HostState.CONNECTED
    info = session.info
    assert info is not None
    assert info.protocol_version == protocol.PROTOCOL_VERSION
    assert info.tfdash_home == str(home)
    assert info.python_executable == sys.executable
    assert isinstance(info.agent_pid, int)
    assert info.agent_pid != os.getpid()
    assert session.status.connected_at is not None
    assert session.status.last_data_at is not None
    assert "local agent pid" in session.status.message
    assert await session.call("jobs.list") == {"jobs": []}


async def test_a_killed_agent_is_replaced_and_calls_work_again(session: HostSession) -> None:
    assert session.info is not None
    old_pid = session.info.agent_pid
    assert old_pid is not None
    seen: list[HostStatus] = []
    waiting = asyncio.create_task(
        wait_for_status(
            session,
            lambda s: s.state is HostState.CONNECTED and s.info.agent_pid != old_pid,
            seen,
        )
    )
    await asyncio.sleep(0)  # let the waiter subscribe before the agent dies
    os.kill(old_pid, signal.SIGKILL)
    reconnected = await waiting
    states = [status.state for status in seen]
    assert HostState.RECONNECTING in states
    assert states.index(HostState.RECONNECTING) < len(states) - 1
    assert reconnected.info is not None
    assert reconnected.info.agent_pid not in (None, old_pid)
    first_loss = next(s for s in seen if s.state is HostState.RECONNECTING)
    assert "lost the connection" in first_loss.message
    retrying = next(s for s in seen if s.state is HostState.RECONNECTING and s.retry_at)
    assert retrying.attempt >= 1
    assert (await session.call("ping"))["time"] > 0


async def test_a_frozen_agent_is_noticed_by_the_ping_and_replaced(
    session_factory: SessionFactory,
) -> None:
    session = await session_factory(ping_interval=0.3)
    assert session.info is not None and session.info.agent_pid is not None
    frozen_pid = session.info.agent_pid
    seen: list[HostStatus] = []
    waiting = asyncio.create_task(
        wait_for_status(
            session,
            lambda s: s.state is HostState.CONNECTED and s.info.agent_pid != frozen_pid,
            seen,
        )
    )
    await asyncio.sleep(0)
    os.kill(frozen_pid, signal.SIGSTOP)  # alive, link open, but silent
    try:
        await waiting
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(frozen_pid, signal.SIGKILL)
    lost = next(s for s in seen if s.state is HostState.RECONNECTING)
    assert "stopped answering pings" in lost.message
    assert "ping" in lost.message


async def test_a_call_made_while_the_agent_is_gone_waits_for_the_reconnection(
    session: HostSession,
) -> None:
    assert session.info is not None and session.info.agent_pid is not None
    old_pid = session.info.agent_pid
    os.kill(old_pid, signal.SIGKILL)
    result = await session.call("jobs.list", timeout=WAIT_S)
    assert result == {"jobs": []}
    assert session.info is not None
    assert session.info.agent_pid != old_pid


async def test_a_missing_python_fails_without_reconnect_and_says_so(
    session_factory: SessionFactory, tmp_path: Path
) -> None:
    missing = str(tmp_path / "no-such-python")
    with pytest.raises(ConnectionFailed) as caught:
        await session_factory(python=missing, reconnect=False)
    assert "no Python interpreter" in caught.value.message
    assert missing in caught.value.message
    assert sys.executable in caught.value.message  # what to use instead


async def test_an_agent_that_dies_at_start_shows_its_stderr(
    session_factory: SessionFactory, tmp_path: Path
) -> None:
    broken = tmp_path / "broken-python"
    broken.write_text("#!/bin/sh\necho 'remote_agent: cannot create TFDASH_HOME' >&2\nexit 3\n")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(ConnectionFailed) as caught:
        await session_factory(python=str(broken), reconnect=False)
    assert "cannot create TFDASH_HOME" in caught.value.message


async def test_a_failed_session_refuses_calls(session_factory: SessionFactory) -> None:
    session = await session_factory(reconnect=False)
    assert session.info is not None and session.info.agent_pid is not None
    seen: list[HostStatus] = []
    waiting = asyncio.create_task(
        wait_for_status(session, lambda s: s.state is HostState.FAILED, seen)
    )
    await asyncio.sleep(0)
    os.kill(session.info.agent_pid, signal.SIGKILL)
    failed = await waiting
    assert "lost the connection" in failed.message
    with pytest.raises(ConnectionFailed, match="lost the connection"):
        await session.call("jobs.list")


async def test_a_protocol_mismatch_is_not_retried(
    session_factory: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(protocol, "PROTOCOL_VERSION", protocol.PROTOCOL_VERSION + 1)
    session = await session_factory()  # reconnect=True: start() returns, status FAILED
    assert session.status.state is HostState.FAILED
    assert "protocol" in session.status.message.lower()
    await asyncio.sleep(0.5)  # several backoff periods: no attempt may follow
    assert session.status.state is HostState.FAILED
    with pytest.raises(ConnectionFailed):
        await session.call("jobs.list")
    with pytest.raises(ProtocolMismatch):
        await session_factory(reconnect=False)


async def test_close_disconnects_and_later_calls_fail(session: HostSession) -> None:
    await session.close()
    assert session.status.state is HostState.DISCONNECTED
    with pytest.raises(ConnectionFailed, match="closed"):
        await session.call("jobs.list")


async def test_a_call_waits_only_within_its_timeout(tmp_path: Path) -> None:
    never = HostSession(
        "nowhere",
        LocalTransport(python=str(tmp_path / "missing")),
        backoff_initial=0.05,
        backoff_max=0.1,
    )
    await never.start()
    try:
        assert never.status.state is HostState.RECONNECTING or never.status.state is (
            HostState.CONNECTING
        )
        with pytest.raises(ConnectionFailed, match=r"gave up waiting for it after 0\.3 s"):
            await never.call("jobs.list", timeout=0.3)
        assert never.status.attempt >= 1
    finally:
        await never.close()


async def test_the_manager_owns_sessions_and_relays_their_status(
    home: Path, tmux_env: dict[str, str]
) -> None:
    manager = HostManager()
    seen: list[HostStatus] = []
    unsubscribe = manager.subscribe_status(seen.append)
    manager.add(HostSession("local", LocalTransport(tfdash_home=home, env=tmux_env)))
    with pytest.raises(UsageError, match="already"):
        manager.add(HostSession("local", LocalTransport(tfdash_home=home)))
    with pytest.raises(UsageError, match="unknown host 'gpu'"):
        manager.get("gpu")
    try:
        await manager.start_all()
        assert manager.get("local").status.state is HostState.CONNECTED
        assert [s.state for s in seen][-1] is HostState.CONNECTED
        unsubscribe()
        count = len(seen)
    finally:
        await manager.close_all()
    assert manager.get("local").status.state is HostState.DISCONNECTED
    assert len(seen) == count


def test_local_manager_has_one_local_host(home: Path) -> None:
    manager = local_manager(home)
    assert [session.name for session in manager.sessions] == ["local"]
    transport = manager.get("local").transport
    assert isinstance(transport, LocalTransport)
    assert transport.tfdash_home == home


def test_the_agent_can_import_remote_agent_without_an_install(home: Path) -> None:
    environment = LocalTransport(tfdash_home=home, env={"PYTHONPATH": "/elsewhere"})
    env = environment.agent_environment()
    first, second = env["PYTHONPATH"].split(os.pathsep)
    assert (Path(first) / "remote_agent" / "protocol.py").is_file()
    assert second == "/elsewhere"
    assert env["TFDASH_HOME"] == str(home)
