"""Subscriptions: the agent pushes what a file gains, in batches, with a cursor.

``<kind>.subscribe {target, cursor, options}`` answers ``{sub, cursor}`` and from then on
the agent sends ``stream.data {sub, cursor, items}`` notifications, batched by time
(at most every ``BATCH_S``) and bytes (at most ``BATCH_BYTES``), ``stream.gap`` when
data is known to be missing, and ``stream.end`` when the source has ended. The cursor
in each notification is the position *after* its items: a client that keeps the last
one it processed and subscribes again from it after a reconnect gets every item
exactly once. Subscriptions die with the connection; the agent keeps no state.

The pump reads its source whenever the source says something changed (a log: every
inotify event) into a pending batch, and sends that batch once ``BATCH_S`` has passed
since the last one or it is full: reading early keeps what a file held only briefly
(the lines ``copytruncate`` writes between its copy and its truncate).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Any, Callable, Dict

from .errors import NotFound

log = logging.getLogger("remote_agent.streams")

BATCH_S = 0.1
BATCH_BYTES = 64 * 1024
MIN_ROOM = 4 * 1024  # a batch with less room left than this is full
IDLE_POLL_S = 0.1
IDLE_LOOK_S = 2.0  # with nothing pending: how long a source may sleep without a change

Notify = Callable[[str, Dict[str, Any]], None]


class StreamRead:
    """What one read of a source gave: items, the cursor after them, how many source bytes
    they took, a gap, the end, and whether more can be read at once (``max_bytes`` ran out)."""

    def __init__(
        self,
        items: list[Any],
        cursor: dict[str, Any],
        size: int = 0,
        gap: dict[str, Any] | None = None,
        ended: bool = False,
        more: bool = False,
    ) -> None:
        self.items = items
        self.cursor = cursor
        self.size = size
        self.gap = gap
        self.ended = ended
        self.more = more


class StreamSource:
    """A readable thing with a cursor; ``read`` never blocks for long."""

    kind = "stream"

    def read(self, max_bytes: int) -> StreamRead:
        raise NotImplementedError

    @property
    def cursor(self) -> dict[str, Any]:
        raise NotImplementedError

    def wait_idle(self, stopped: threading.Event, timeout: float) -> None:
        """Sleep until something may be new, at most ``timeout``; ``wake`` ends it early."""
        stopped.wait(min(timeout, IDLE_POLL_S))

    def join(self, items: list[Any]) -> list[Any]:
        """The items of several reads as one notification carries them."""
        return items

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
        pending = _Pending()
        sent_at = time.monotonic() - BATCH_S  # the first data goes out at once
        while not self.stopped.is_set():
            read = self.source.read(BATCH_BYTES - pending.size)
            if self.stopped.is_set():
                return
            if read.gap is not None:
                self._send(pending)  # what came before the hole goes first
                self.notify("stream.gap", dict(read.gap, sub=self.id, cursor=read.cursor))
            pending.add(read)
            now = time.monotonic()
            if read.gap is not None:  # the data after the hole follows its gap at once
                self._send(pending)
                sent_at = now
            if read.ended:
                self._send(pending)
                self.notify(
                    "stream.end", {"sub": self.id, "cursor": read.cursor, "reason": "ended"}
                )
                return
            full = read.more or pending.size > BATCH_BYTES - MIN_ROOM
            if pending.items and (full or now - sent_at >= BATCH_S):
                self._send(pending)
                sent_at = now
            if not pending.items:
                pending.clear()  # bytes skipped without items do not fill a batch
            if read.more:
                continue  # more is waiting: read it at once
            due = sent_at + BATCH_S - now if pending.items else IDLE_LOOK_S
            self.source.wait_idle(self.stopped, max(due, 0.0))

    def _send(self, pending: _Pending) -> None:
        if pending.items:
            items = self.source.join(pending.items)
            self.notify("stream.data", {"sub": self.id, "cursor": pending.cursor, "items": items})
        pending.clear()


class _Pending:
    """Items read but not yet sent, the cursor after them and the source bytes they took."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.cursor: dict[str, Any] = {}
        self.size = 0

    def add(self, read: StreamRead) -> None:
        if read.items:
            self.items += read.items
            self.cursor = read.cursor
        self.size += read.size

    def clear(self) -> None:
        self.items, self.cursor, self.size = [], {}, 0


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
