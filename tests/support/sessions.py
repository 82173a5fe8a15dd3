"""Waiting on a HostSession's status in tests (by its status events, never by sleeping)."""

from __future__ import annotations

import asyncio

from tfdash.models import HostState, HostStatus
from tfdash.transport.session import HostSession


async def wait_for_state(
    session: HostSession, state: HostState, timeout: float = 60.0
) -> HostStatus:
    """The session's status once it is in ``state``; TimeoutError after ``timeout``."""
    changed = asyncio.Event()
    unsubscribe = session.subscribe_status(lambda status: changed.set())
    try:
        async with asyncio.timeout(timeout):
            while session.status.state is not state:
                changed.clear()
                await changed.wait()
    finally:
        unsubscribe()
    return session.status
