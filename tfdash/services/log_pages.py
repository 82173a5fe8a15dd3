"""Reading a log on demand: a page of earlier lines (``read_before``) and one whole line.

Both ask the agent again after a dropped link, from the same cursor, so a reconnect
costs a repeated request, never a wrong answer.
"""

from __future__ import annotations

import base64
import codecs
import logging
from dataclasses import dataclass
from typing import Any

from tfdash.errors import ConnectionFailed, RequestTimeout, TfdashError
from tfdash.models import HostState, LogCursor, LogCut, cuts_from_wire
from tfdash.transport.session import HostSession

logger = logging.getLogger(__name__)

PAGE_BYTES = 8 * 1024 * 1024
"""The most the agent sends in one `logs.read` or `logs.before` reply."""
CALL_TIMEOUT_S = 120.0
"""Generous: an 8 MiB page over a slow link takes a while."""


class LogLineTooLong(TfdashError):
    """A line asked for in full is longer than the caller is willing to hold."""

    title = "Line too long"


@dataclass(frozen=True)
class LogPage:
    """Whole lines that come right before a cursor, and the cursor of their start.

    Pass ``cursor`` to the next ``read_before`` to page further back; ``at_start`` is
    true when nothing earlier can be read (the oldest file's start, or a compressed one).
    """

    text: str
    cursor: LogCursor
    at_start: bool
    cuts: tuple[LogCut, ...] = ()


def session_may_recover(session: HostSession) -> bool:
    """A reconnecting session will answer again; a failed or closed one will not."""
    return session.reconnect and session.status.state in (
        HostState.CONNECTED,
        HostState.CONNECTING,
        HostState.RECONNECTING,
    )


async def call_again_after_drops(
    session: HostSession,
    method: str,
    params: dict[str, Any],
    *,
    timeout: float = CALL_TIMEOUT_S,
) -> Any:
    """``session.call`` of a read-only method, asked again while the session can recover."""
    while True:
        try:
            return await session.call(method, params, timeout=timeout)
        except (ConnectionFailed, RequestTimeout) as exc:
            if not session_may_recover(session):
                raise
            logger.info("%s for %s again after: %s", method, params.get("id"), exc)


async def read_before(
    session: HostSession,
    job_id: str,
    cursor: LogCursor,
    lines: int,
    *,
    file: str | None = None,
    line_limit: int = 0,
) -> LogPage:
    """Up to ``lines`` whole lines ending right before ``cursor`` (`logs.before`)."""
    params: dict[str, Any] = {"id": job_id, "cursor": cursor.to_wire(), "lines": lines}
    if file is not None:
        params["file"] = file
    if line_limit:
        params["line_limit"] = line_limit
    result = await call_again_after_drops(session, "logs.before", params)
    return LogPage(
        text=str(result["text"]),
        cursor=LogCursor.from_wire(result["cursor"]),
        at_start=bool(result["at_start"]),
        cuts=cuts_from_wire(result.get("cuts")),
    )


async def read_line(
    session: HostSession,
    job_id: str,
    line: LogCursor,
    *,
    file: str | None = None,
    max_bytes: int = 64 * 1024 * 1024,
) -> str:
    """The whole line that starts at ``line`` (a ``LogCut.line``), without its "\\n".

    Reads exact bytes page by page until the newline (or the end of what is written so
    far) and decodes them once, so a character split between pages stays whole.
    Raises LogLineTooLong when the line holds more than ``max_bytes`` bytes.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    parts: list[str] = []
    size = 0
    cursor = line
    while True:
        params: dict[str, Any] = {
            "id": job_id,
            "cursor": cursor.to_wire(),
            "max_bytes": min(PAGE_BYTES, max_bytes - size + 1),
            "encoding": "base64",
            "partial": True,
            "line_limit": 0,
        }
        if file is not None:
            params["file"] = file
        result = await call_again_after_drops(session, "logs.read", params)
        data = base64.b64decode(result["data"])
        newline = data.find(b"\n")
        if newline >= 0:
            data = data[:newline]
        size += len(data)
        if size > max_bytes:
            raise LogLineTooLong(
                f"the line is longer than {max_bytes:,} bytes: save the whole log to read it"
            )
        parts.append(decoder.decode(data))
        if newline >= 0 or not data or result["eof"]:
            parts.append(decoder.decode(b"", final=True))
            return "".join(parts)
        cursor = LogCursor.from_wire(result["cursor"])
