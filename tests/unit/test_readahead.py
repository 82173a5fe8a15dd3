"""ReadAhead: a page read ahead is handed out only for its reader and cursor, and only
when it holds news; a connection keeps a bounded number of pages."""

from __future__ import annotations

import threading
from typing import Any

from remote_agent.errors import NotFound
from remote_agent.readahead import ReadAhead
from remote_agent.wire import RawJsonString


def page(text: bytes, eof: bool = False) -> dict[str, Any]:
    return {"text": RawJsonString(text), "eof": eof, "cursor": {"inode": 1, "offset": 9}}


def test_the_page_at_the_asked_cursor_is_taken_once() -> None:
    ahead = ReadAhead()
    ready = page(b"next lines\\n")
    ahead.start("reader", 100, lambda cancelled: ready)
    assert ahead.take("reader", 100) is ready
    assert ahead.take("reader", 100) is None
    assert ahead.hits == 1


def test_a_page_at_another_cursor_or_of_another_reader_is_not_used() -> None:
    ahead = ReadAhead()
    ahead.start("reader", 100, lambda cancelled: page(b"x"))
    assert ahead.take("other reader", 100) is None
    assert ahead.take("reader", 50) is None  # the client went back: read again
    assert ahead.take("reader", 100) is None  # dropped by the miss
    assert ahead.hits == 0


def test_a_page_without_news_is_not_used_but_the_end_is() -> None:
    ahead = ReadAhead()
    ahead.start("caught up", 1, lambda cancelled: page(b""))
    end = page(b"", eof=True)
    ahead.start("ended", 1, lambda cancelled: end)
    assert ahead.take("caught up", 1) is None  # the request reads again, with its wait_s
    assert ahead.take("ended", 1) is end


def test_a_failed_read_ahead_leaves_the_request_to_read_again() -> None:
    def gone(cancelled: threading.Event) -> dict[str, Any]:
        raise NotFound("no job with id 'x'")

    ahead = ReadAhead()
    ahead.start("reader", 1, gone)
    assert ahead.take("reader", 1) is None


def test_the_oldest_reader_is_dropped_beyond_the_slots() -> None:
    ahead = ReadAhead(slots=2)
    pages = {reader: page(reader.encode()) for reader in ("a", "b", "c")}
    for reader, ready in pages.items():

        def read(cancelled: threading.Event, ready: dict[str, Any] = ready) -> dict[str, Any]:
            return ready

        ahead.start(reader, 1, read)
    assert ahead.take("a", 1) is None
    assert ahead.take("b", 1) is pages["b"]
    assert ahead.take("c", 1) is pages["c"]


def test_closing_cancels_reads_under_way_and_starts_no_more() -> None:
    ahead = ReadAhead()
    begun = threading.Event()
    saw_cancel: list[bool] = []

    def slow(cancelled: threading.Event) -> dict[str, Any]:
        begun.set()
        saw_cancel.append(cancelled.wait(30))  # generous: True at once when cancelled
        return page(b"late")

    ahead.start("reader", 1, slow)
    assert begun.wait(30)
    ahead.close()
    ahead.start("reader", 2, lambda cancelled: page(b"after close"))
    assert ahead.take("reader", 2) is None
    finished = threading.Event()
    for _ in range(300):
        if saw_cancel:
            break
        finished.wait(0.1)
    assert saw_cancel == [True]
