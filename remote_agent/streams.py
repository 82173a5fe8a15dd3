"""Subscriptions: the agent pushes what a file gains, in batches, with a cursor.

``<kind>.subscribe {target, cursor, options}`` answers ``{sub, cursor}`` and from then on
the agent sends ``stream.data {sub, cursor, items}`` notifications, batched by time
(at most every ``BATCH_S``) and bytes (at most ``BATCH_BYTES``), ``stream.gap`` when
data is known to be missing, and ``stream.end`` when the source has ended. The cursor
in each notification is the position *after* its items: a client that keeps the last
one it processed and subscribes again from it after a reconnect gets every item
exactly once. Subscriptions die with the connection; the agent keeps no state.
"""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any, Callable, Dict

from .errors import NotFound

log = logging.getLogger("remote_agent.streams")

BATCH_S = 0.1
BATCH_BYTES = 64 * 1024
IDLE_POLL_S = 0.1

Notify = Callable[[str, Dict[str, Any]], None]


class StreamRead:
    """What one read of a source gave: items, the cursor after them, a gap, the end."""

    def __init__(
        self,
        items: list[Any],
        cursor: dict[str, Any],
        size: int = 0,
        gap: dict[str, Any] | None = None,
        ended: bool = False,
    ) -> None:
        self.items = items
        self.cursor = cursor
        self.size = size
        self.gap = gap
        self.ended = ended


class StreamSource:
    """A readable thing with a cursor; ``read`` never blocks for long."""

    kind = "stream"

    def read(self, max_bytes: int) -> StreamRead:
        raise NotImplementedError

    @property
    def cursor(self) -> dict[str, Any]:
        raise NotImplementedError

    def wait_idle(self, stopped: threading.Event, timeout: float) -> None:
        """Sleep while nothing is new (up to ``timeout``); ``wake`` ends it early."""
        stopped.wait(timeout)

    def wake(self) -> None:
        """End a ``wait_idle`` in progress: the subscription is stopping."""

    def close(self) -> None:
        """Release what the source holds open; called once its subscription has ended."""


class Subscription:
    """One subscription's pump: a thread that reads its source and notifies."""

    def __init__(self, sub_id: str, source: StreamSource, notify: Notify) -> None:
        self.id = sub_id
        self.source = source
        self.notify = notify
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._pump, name="stream-" + sub_id, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.source.wake()

    def _pump(self) -> None:
        try:
            self._loop()
        except Exception as e:
            log.exception("stream %s failed", self.id)
            self.notify("stream.end", {"sub": self.id, "reason": f"error: {e}"})
        finally:
            self.source.close()

    def _loop(self) -> None:
        while not self.stopped.is_set():
            batch = self.source.read(BATCH_BYTES)
            if self.stopped.is_set():
                return
            if batch.gap is not None:
                self.notify("stream.gap", dict(batch.gap, sub=self.id, cursor=batch.cursor))
            if batch.items:
                self.notify(
                    "stream.data", {"sub": self.id, "cursor": batch.cursor, "items": batch.items}
                )
            if batch.ended:
                self.notify(
                    "stream.end", {"sub": self.id, "cursor": batch.cursor, "reason": "ended"}
                )
                return
            if batch.size >= BATCH_BYTES:
                continue  # more is waiting: send it at once
            # A small batch: let more accumulate before the next notification.
            if batch.items:
                self.stopped.wait(BATCH_S)
            else:
                self.source.wait_idle(self.stopped, IDLE_POLL_S)


class StreamManager:
    """The subscriptions of one connection."""

    def __init__(self, notify: Notify) -> None:
        self.notify = notify
        self._subs: dict[str, Subscription] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def add(self, source: StreamSource) -> Subscription:
        """Register a subscription; start it once the reply with its id has been sent."""
        sub_id = f"{source.kind}-{next(self._ids)}"
        sub = Subscription(sub_id, source, self._notify_unless_gone)
        with self._lock:
            self._subs[sub_id] = sub
        return sub

    def _notify_unless_gone(self, method: str, params: dict[str, Any]) -> None:
        with self._lock:
            alive = params["sub"] in self._subs
            if method == "stream.end":
                self._subs.pop(params["sub"], None)
        if alive:
            self.notify(method, params)

    def remove(self, sub_id: str) -> None:
        with self._lock:
            sub = self._subs.pop(sub_id, None)
        if sub is None:
            raise NotFound(f"no subscription {sub_id!r} on this connection", {"sub": sub_id})
        sub.stop()

    def close(self) -> None:
        with self._lock:
            subs = list(self._subs.values())
            self._subs.clear()
        for sub in subs:
            sub.stop()
