"""Reading a job's output: LogFollower (a `logs` stream, or `logs.read` pages) and LogBuffer.

The follower keeps the agent's cursor, so after a reconnect it reads on from where it
stopped: nothing is lost and nothing is shown twice.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Any

from tfdash.errors import ConnectionFailed, RequestTimeout
from tfdash.models import HostState, JobState, LogChunk, LogCursor
from tfdash.transport.session import HostSession

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
    """

    def __init__(
        self,
        session: HostSession,
        job_id: str,
        *,
        cursor: LogCursor | None = None,
        tail_bytes: int | None = None,
        follow: bool = True,
        wait_s: float = 1.0,
    ) -> None:
        self.session = session
        self.job_id = job_id
        self.follow = follow
        self.wait_s = wait_s
        self._cursor = cursor
        self._tail_bytes = tail_bytes

    @property
    def cursor(self) -> LogCursor | None:
        """Where the next read starts (None before the first read without a cursor)."""
        return self._cursor

    def __aiter__(self) -> AsyncIterator[LogChunk]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[LogChunk]:
        if self.follow:
            async for streamed in self._stream():
                yield streamed
            return
        while True:
            chunk = await self._read()
            if chunk is None:
                continue  # the link dropped mid-read: read again from the cursor
            if chunk.text or (chunk.eof and self.follow):
                yield chunk
            if chunk.eof or (not chunk.text and not self.follow):
                return

    async def _stream(self) -> AsyncIterator[LogChunk]:
        options = (
            {} if self._tail_bytes is None or self._cursor else {"tail_bytes": self._tail_bytes}
        )
        cursor = self._cursor.to_wire() if self._cursor is not None else None
        sub = await self.session.subscribe(
            "logs", {"job": self.job_id}, cursor=cursor, options=options
        )
        gap: str | None = None
        reconnected = False
        try:
            async for event in sub:
                if event.cursor is not None:
                    self._cursor = LogCursor.from_wire(event.cursor)
                if event.kind == "gap":
                    gap = event.reason or "lines are missing"
                elif event.kind == "reconnected":
                    reconnected = True
                elif event.kind == "data":
                    text = "".join(str(item["text"]) for item in event.items)
                    assert self._cursor is not None
                    yield LogChunk(text, self._cursor, False, None, gap, reconnected)
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
        if self._cursor is not None:
            params["cursor"] = self._cursor.to_wire()
        elif self._tail_bytes is not None:
            params["tail_bytes"] = self._tail_bytes
        try:
            result = await self.session.call(
                "logs.read", params, timeout=wait_s + READ_TIMEOUT_MARGIN_S
            )
        except (ConnectionFailed, RequestTimeout) as exc:
            if not self._session_may_recover():
                raise
            logger.info("reading the log of %s again after: %s", self.job_id, exc)
            return None
        chunk = LogChunk(
            text=str(result["text"]),
            cursor=LogCursor.from_wire(result["cursor"]),
            eof=bool(result["eof"]),
            job_state=JobState(result["job_state"]),
            gap=result.get("gap_reason") or ("lines are missing" if result.get("gap") else None),
        )
        self._cursor = chunk.cursor
        return chunk

    def _session_may_recover(self) -> bool:
        """A reconnecting session will answer again; a failed or closed one will not."""
        session = self.session
        return session.reconnect and session.status.state in (
            HostState.CONNECTED,
            HostState.CONNECTING,
            HostState.RECONNECTING,
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
