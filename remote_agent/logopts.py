"""The options ``logs.read`` and ``logs.subscribe`` share: where to start, how to cut.

Where to start: an explicit cursor wins; else ``since`` (the job's time index) and
``tail_lines`` (read backwards) or ``tail_bytes``: with both a time and a tail, the
later start wins (the last N lines among those written since T); with neither, the
oldest data on disk. ``line_limit`` and ``partial`` shape what is handed out.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, NamedTuple

from . import timeindex
from .errors import InvalidParams
from .follow import FileCursor, Follower, FollowRead
from .linecut import render
from .siblings import STABLE_TRIES, Moved, rotated_set
from .validate import Params
from .wire import RawJsonString

TEXT, BASE64 = "text", "base64"


class LogOptions(NamedTuple):
    tail_bytes: int | None = None
    tail_lines: int | None = None
    since: float | None = None
    line_limit: int = 0
    partial: bool = False


def parse_log_options(params: Params, prefix: str, has_file: bool) -> LogOptions:
    """The shared options from ``params``; errors name ``prefix + field``."""
    renamed = Params({prefix + key: value for key, value in params.raw.items()})
    options = LogOptions(
        tail_bytes=renamed.get_int(prefix + "tail_bytes", None, minimum=0),
        tail_lines=renamed.get_int(prefix + "tail_lines", None, minimum=0),
        since=renamed.get_float(prefix + "since", None, minimum=0.0),
        line_limit=renamed.get_int(prefix + "line_limit", 0, minimum=0),
        partial=renamed.get_bool(prefix + "partial", False),
    )
    if options.since is not None and has_file:
        raise InvalidParams(
            f"{prefix}since works only for the job's own output (its time index): "
            f"use {prefix}tail_lines for another log file",
            prefix + "since",
        )
    return options


def start_cursor(follower: Follower, job_dir: Path, options: LogOptions) -> FileCursor:
    """Where reading starts without an explicit cursor (see the module docstring)."""
    tail = options.tail_lines is not None or options.tail_bytes is not None
    tail_start = follower.start(options.tail_bytes, options.tail_lines) if tail else None
    if options.since is None:
        return tail_start or follower.start(None)
    found = timeindex.find_since(job_dir / "output.times", options.since)
    if found is None:
        since_start = follower.start(None)
    elif isinstance(found, timeindex.AfterAll):
        since_start = follower.start(None, 0)
    else:
        since_start = found
    if tail_start is None:
        return since_start
    for _ in range(STABLE_TRIES):
        files = rotated_set(follower.path)
        try:
            later = follower.order(files, tail_start) >= follower.order(files, since_start)
        except Moved:
            continue
        return tail_start if later else since_start
    return tail_start


def read_reply(read: FollowRead, encoding: str = TEXT) -> dict[str, Any]:
    """The text (or base64 bytes) of a read, and its cuts, as the wire has them."""
    if encoding == BASE64:  # spliced into the reply as it is (wire.py)
        return {"data": RawJsonString(base64.b64encode(read.data))}
    text, cuts = render(read.data, [(at, cursor_wire(line)) for at, line in read.cuts])
    reply: dict[str, Any] = {"text": text}
    if cuts:
        reply["cuts"] = cuts
    return reply


def cursor_wire(cursor: FileCursor) -> dict[str, Any]:
    """A cursor as the wire has it (no fingerprint fields before any bytes were read)."""
    wire: dict[str, Any] = {"inode": cursor.inode, "offset": cursor.offset}
    if cursor.head_bytes:
        wire["head_sha1"] = cursor.head_sha1
        wire["head_bytes"] = cursor.head_bytes
    return wire
