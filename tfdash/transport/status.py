"""A host's current HostStatus, its subscribers, and a way to wait for the next change."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from tfdash.models import HostState, HostStatus

logger = logging.getLogger(__name__)

StatusCallback = Callable[[HostStatus], None]

# Subscribers hear about fresher data at most this often (every answered call updates it).
DATA_AGE_PUBLISH_S = 1.0


class StatusPublisher:
    """Holds one host's status; every change reaches the subscribers and wakes waiters."""

    def __init__(self, name: str) -> None:
        self._status = HostStatus(name=name, state=HostState.DISCONNECTED)
        self._subscribers: list[StatusCallback] = []
        self._changed = asyncio.Event()
        self._published_data_at = 0.0

    @property
    def current(self) -> HostStatus:
        return self._status

    def subscribe(self, callback: StatusCallback) -> Callable[[], None]:
        """Call ``callback`` on every change; returns the unsubscribe function."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def update(self, *, publish: bool = True, **changes: Any) -> HostStatus:
        """Replace fields of the status; with ``publish`` tell subscribers and waiters."""
        self._status = dataclasses.replace(self._status, **changes)
        if publish:
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()
            for callback in list(self._subscribers):
                try:
                    callback(self._status)
                except Exception:
                    logger.exception("status subscriber of %s failed", self._status.name)
        return self._status

    def note_data(self) -> None:
        """Record that the agent just answered; published at most once a second."""
        now = time.time()
        publish = now - self._published_data_at >= DATA_AGE_PUBLISH_S
        if publish:
            self._published_data_at = now
        self.update(publish=publish, last_data_at=now)

    async def wait_changed(self, timeout: float | None) -> None:
        """Wait for the next published change; TimeoutError after ``timeout`` seconds."""
        await asyncio.wait_for(self._changed.wait(), timeout)
