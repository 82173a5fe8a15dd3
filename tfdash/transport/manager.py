"""The HostManager owns every HostSession; ``local_manager`` is the one-host default."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from tfdash.errors import UsageError
from tfdash.transport.local import LocalTransport
from tfdash.transport.session import HostSession
from tfdash.transport.status import StatusCallback


class HostManager:
    """Owns every HostSession; status subscribers hear about all of them."""

    def __init__(self) -> None:
        self._sessions: dict[str, HostSession] = {}
        self._subscribers: dict[int, tuple[StatusCallback, list[Callable[[], None]]]] = {}
        self._next_subscriber = 0

    def add(self, session: HostSession) -> None:
        if session.name in self._sessions:
            raise UsageError(f"there is already a host named {session.name!r}")
        self._sessions[session.name] = session
        for callback, unsubscribers in self._subscribers.values():
            unsubscribers.append(session.subscribe_status(callback))

    def get(self, name: str) -> HostSession:
        try:
            return self._sessions[name]
        except KeyError:
            known = ", ".join(sorted(self._sessions)) or "none"
            raise UsageError(f"unknown host {name!r} (known hosts: {known})") from None

    @property
    def sessions(self) -> list[HostSession]:
        return list(self._sessions.values())

    def subscribe_status(self, callback: StatusCallback) -> Callable[[], None]:
        """Subscribe to the status of every host, including hosts added later."""
        key = self._next_subscriber
        self._next_subscriber += 1
        unsubscribers = [session.subscribe_status(callback) for session in self.sessions]
        self._subscribers[key] = (callback, unsubscribers)

        def unsubscribe() -> None:
            entry = self._subscribers.pop(key, None)
            for undo in entry[1] if entry else []:
                undo()

        return unsubscribe

    async def start_all(self) -> None:
        """Start every session; raises the first start-up error once all have tried."""
        results = await asyncio.gather(
            *(session.start() for session in self.sessions), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def close_all(self) -> None:
        await asyncio.gather(*(session.close() for session in self.sessions))


def local_manager(tfdash_home: Path | None = None) -> HostManager:
    """A HostManager with one host, "local": the agent as a subprocess of tfdash."""
    manager = HostManager()
    manager.add(HostSession("local", LocalTransport(tfdash_home=tfdash_home)))
    return manager
