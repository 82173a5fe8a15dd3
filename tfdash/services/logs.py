"""Reading a job's output: LogFollower (a `logs` stream, or `logs.read` pages) and LogBuffer.

The follower keeps the agent's cursor, so after a reconnect it reads on from where it
stopped: nothing is lost and nothing is shown twice. Paging back (``read_before``),
reading one whole line (``read_line``) and saving a whole log (``save_log``) live in
the log_pages and log_save modules and are re-exported here.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Any

from tfdash.errors import ConnectionFailed, RequestTimeout
from tfdash.models import JobState, LogChunk, LogCursor, LogCut, cuts_from_wire
from tfdash.services.log_pages import (
    LogLineTooLong,
    LogPage,
    read_before,
    read_line,
    session_may_recover,
)
from tfdash.services.log_save import LogFileExists, SaveResult, save_log
from tfdash.transport.session import HostSession
from tfdash.transport.streams import Subscription

__all__ = [
    "LogBuffer",
    "LogFileExists",
    "LogFollower",
    "LogLineTooLong",
    "LogPage",
    "SaveResult",
    "chunk_of_items",
    "read_before",
    "read_line",
    "save_log",
]

logger = logging.getLogger(__name__)

READ_MAX_BYTES = 1024 * 1024
# Extra time over the long poll's wait_s before a read counts as lost.
READ_TIMEOUT_MARGIN_S = 30.0


class LogFollower:
    """An async iterator of LogChunk: with ``follow`` a `logs.subscribe` stream, else reads.

    Following yields every chunk that has text (or reports a gap or a reconnection) and
    last the chunk with ``eof=True`` (even if its text is empty) that carries the job's
    final state. Without ``follow`` it reads pages of `logs.read` and ends as soon as a
    read returns no text.

    Where it starts: ``cursor`` if given, else ``since`` (epoch seconds; the job's own
    output only), else the last ``tail_lines`` lines, else ``tail_bytes`` from the end,
    else the start of the oldest rotated file. ``file`` follows another log of the job
    (relative to its cwd); ``partial`` also hands out an unterminated last line as it
    grows; ``line_limit`` (bytes, 0: none) cuts over-long segments (``LogChunk.cuts``).
    """

    def __init__(
        self,
        session: HostSession,
        job_id: str,
        *,
        file: str | None = None,
        cursor: LogCursor | None = None,
        tail_lines: int | None = None,
        tail_bytes: int | None = None,
        since: float | None = None,
        follow: bool = True,
        partial: bool = False,
        line_limit: int = 0,
        wait_s: float = 1.0,
    ) -> None:
        self.session = session
        self.job_id = job_id
        self.file = file
        self.follow = follow
        self.partial = partial
        self.line_limit = line_limit
        self.wait_s = wait_s
        self._cursor = cursor
        self._sub: Subscription | None = None
        self._start: dict[str, Any] = {
            name: value
            for name, value in (
                ("tail_lines", tail_lines),
                ("tail_bytes", tail_bytes),
                ("since", since),
            )
            if value is not None
        }

    @property
    def cursor(self) -> LogCursor | None:
        """Where the next read starts (None before the first read without a cursor)."""
        return self._cursor

    @property
    def start_cursor(self) -> LogCursor | None:
        """Where the stream started (once the agent answered): page back from here."""
        if self._sub is not None and self._sub.start_cursor is not None:
            return LogCursor.from_wire(self._sub.start_cursor)
        return None

    def __aiter__(self) -> AsyncIterator[LogChunk]:
        return self._chunks()

    def _options(self) -> dict[str, Any]:
        """What the agent needs besides the cursor: where to start, how to cut."""
        options: dict[str, Any] = {} if self._cursor is not None else dict(self._start)
        if self.partial:
            options["partial"] = True
        if self.line_limit:
            options["line_limit"] = self.line_limit
        return options

    async def _chunks(self) -> AsyncIterator[LogChunk]:
        if self.follow:
            async for streamed in self._stream():
                yield streamed
            return
        while True:
            chunk = await self._read()
            if chunk is None:
                continue  # the link dropped mid-read: read again from the cursor
            if chunk.text:
                yield chunk
            if chunk.eof or not chunk.text:
                return

    async def _stream(self) -> AsyncIterator[LogChunk]:
        target: dict[str, Any] = {"job": self.job_id}
        if self.file is not None:
            target["file"] = self.file
        cursor = self._cursor.to_wire() if self._cursor is not None else None
        sub = await self.session.subscribe("logs", target, cursor=cursor, options=self._options())
        self._sub = sub
        gap: str | None = None
        reconnected = False
        try:
            async for event in sub:
                if event.cursor is not None and event.kind != "gap":  # see Subscription
                    self._cursor = LogCursor.from_wire(event.cursor)
                if event.kind == "gap":
                    gap = event.reason or "lines are missing"
                elif event.kind == "reconnected":
                    reconnected = True
                elif event.kind == "data":
                    assert self._cursor is not None
                    yield chunk_of_items(event.items, self._cursor, gap, reconnected)
                    gap, reconnected = None, False
                elif event.reason.startswith("error"):
                    raise ConnectionFailed(f"following the log of {self.job_id}: {event.reason}")
                else:
                    job = await self.session.call("jobs.get", {"id": self.job_id})
                    assert self._cursor is not None
                    state = JobState(job["state"])
                    yield LogChunk("", self._cursor, True, state, gap, reconnected)
        finally:
            await sub.close()

    async def _read(self) -> LogChunk | None:
        params: dict[str, Any] = {"id": self.job_id, "max_bytes": READ_MAX_BYTES}
        wait_s = self.wait_s if self.follow else 0.0
        params["wait_s"] = wait_s
        if self.file is not None:
            params["file"] = self.file
        if self._cursor is not None:
            params["cursor"] = self._cursor.to_wire()
        params.update(self._options())
        try:
            result = await self.session.call(
                "logs.read", params, timeout=wait_s + READ_TIMEOUT_MARGIN_S
            )
        except (ConnectionFailed, RequestTimeout) as exc:
            if not session_may_recover(self.session):
                raise
            logger.info("reading the log of %s again after: %s", self.job_id, exc)
            return None
        chunk = LogChunk(
            text=str(result["text"]),
            cursor=LogCursor.from_wire(result["cursor"]),
            eof=bool(result["eof"]),
            job_state=JobState(result["job_state"]),
            gap=result.get("gap_reason") or ("lines are missing" if result.get("gap") else None),
            cuts=cuts_from_wire(result.get("cuts")),
        )
        self._cursor = chunk.cursor
        return chunk


def chunk_of_items(
    items: list[Any], cursor: LogCursor, gap: str | None, reconnected: bool
) -> LogChunk:
    """One chunk of a `stream.data` batch: the items' texts joined, their cuts shifted."""
    texts: list[str] = []
    cuts: list[LogCut] = []
    length = 0
    for item in items:
        text = str(item["text"])
        cuts.extend(cuts_from_wire(item.get("cuts"), shift=length))
        texts.append(text)
        length += len(text)
    times = [float(item["t"]) for item in items if item.get("t") is not None]
    return LogChunk(
        "".join(texts),
        cursor,
        False,
        None,
        gap,
        reconnected,
        time=times[0] if times else None,
        cuts=tuple(cuts),
    )


class LogBuffer:
    """The last ``max_lines`` lines of a log, for a scrollback view."""

    def __init__(self, max_lines: int = 100_000) -> None:
        if max_lines < 1:
            raise ValueError("a LogBuffer holds at least one line")
        self.max_lines = max_lines
        self._lines: deque[str] = deque(maxlen=max_lines)
        self.dropped = 0
        """How many old lines were pushed out to stay within max_lines."""

    def append(self, text: str) -> list[str]:
        """Add whole lines (each ends in "\\n", the last may lack it); return the new lines.

        Only the lines still held are returned when ``text`` has more than ``max_lines``.
        """
        if not text:
            return []
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        lines = [line.removesuffix("\r") for line in lines]
        overflow = len(self._lines) + len(lines) - self.max_lines
        if overflow > 0:
            self.dropped += overflow
        self._lines.extend(lines)
        return lines[-self.max_lines :]

    @property
    def lines(self) -> Sequence[str]:
        return self._lines

    def clear(self) -> None:
        self._lines.clear()

    def __len__(self) -> int:
        return len(self._lines)
