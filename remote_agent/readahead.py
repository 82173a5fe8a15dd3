"""Read-ahead for ``logs.read``: the next page is read and encoded while the last one is
on the wire, so a client paging through a big log (catching up, saving it) finds it ready.

A client can ask for page N+1 only once page N's reply (and its cursor) has arrived;
without read-ahead the agent idles while sshd and the client work, and they idle while
the agent reads and encodes. After a full page the agent reads the next one at the
returned cursor, with the same params, in a thread; a request for exactly that page
takes it. The protocol does not change: a read-ahead page is what a read at that moment
would have returned. One connection keeps at most ``SLOTS`` pages (one per reader, the
oldest dropped first), each for at most ``MAX_AGE_S``; a page with nothing new is never
used (the request reads again, honouring its ``wait_s``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Dict, Hashable

from .errors import AgentError
from .logpage import has_news

SLOTS = 2
MAX_AGE_S = 10.0

PageRead = Callable[[threading.Event], Dict[str, Any]]


class _Page:
    """One page being read (or read) in a thread of its own."""

    def __init__(self, cursor: Hashable, read: PageRead) -> None:
        self.cursor = cursor
        self.started = time.monotonic()
        self.cancelled = threading.Event()
        self.reply: dict[str, Any] | None = None
        self._read = read
        self._thread = threading.Thread(target=self._run, name="readahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.reply = self._read(self.cancelled)
        except AgentError:  # the request itself will read again and report it
            self.reply = None

    def result(self) -> dict[str, Any] | None:
        self._thread.join()
        return self.reply


class ReadAhead:
    """The read-ahead pages of one connection, by reader (its params without the cursor)."""

    def __init__(self, slots: int = SLOTS, max_age_s: float = MAX_AGE_S) -> None:
        self.slots = slots
        self.max_age_s = max_age_s
        self._pages: OrderedDict[Hashable, _Page] = OrderedDict()
        self._lock = threading.Lock()
        self._closed = False
        self.hits = 0
        """Requests answered from a read-ahead page (for tests and benchmarks)."""

    def take(self, reader: Hashable, cursor: Hashable) -> dict[str, Any] | None:
        """The page read ahead for ``reader`` at ``cursor`` if it holds news, else None."""
        with self._lock:
            page = self._pages.pop(reader, None)
            self._drop_stale()
        if page is None:
            return None
        if page.cursor != cursor or time.monotonic() - page.started > self.max_age_s:
            page.cancelled.set()
            return None
        reply = page.result()
        if reply is None or not has_news(reply):
            return None
        with self._lock:
            self.hits += 1
        return reply

    def start(self, reader: Hashable, cursor: Hashable, read: PageRead) -> None:
        """Begin reading ``reader``'s page at ``cursor`` with ``read(cancelled)``."""
        with self._lock:
            if self._closed:
                return
            old = self._pages.pop(reader, None)
            if old is not None:
                old.cancelled.set()
            self._pages[reader] = _Page(cursor, read)
            while len(self._pages) > self.slots:
                self._pages.popitem(last=False)[1].cancelled.set()

    def close(self) -> None:
        """Drop every page (the connection ended); reads under way stop at once."""
        with self._lock:
            self._closed = True
            for page in self._pages.values():
                page.cancelled.set()
            self._pages.clear()

    def _drop_stale(self) -> None:
        now = time.monotonic()
        for reader in [r for r, p in self._pages.items() if now - p.started > self.max_age_s]:
            self._pages.pop(reader).cancelled.set()
