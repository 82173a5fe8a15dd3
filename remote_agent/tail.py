"""Reading a job's ``output.log`` with a cursor (inode, offset) that survives rotation.

When the supervisor rotated the log since the cursor was made, the rest of the old file
is found among ``output.log.1 … .N`` by its inode and read first, so nothing is skipped.
Only whole lines are returned while the job runs; a partial last line waits for its
newline (or for the job to end).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Tuple

from . import protocol
from .errors import InvalidParams, NotFound, RequestCancelled
from .streams import StreamRead, StreamSource

DEFAULT_READ_BYTES = 1024 * 1024
MAX_READ_BYTES = 8 * 1024 * 1024
POLL_S = 0.1

Cursor = Tuple[int, int]  # (inode, byte offset)


def parse_cursor(raw: dict[str, Any] | None) -> Cursor | None:
    if raw is None:
        return None
    inode, offset = raw.get("inode"), raw.get("offset")
    if not isinstance(inode, int) or not isinstance(offset, int) or offset < 0 or inode < 0:
        raise InvalidParams(
            'cursor must be {"inode": int, "offset": int} as returned by a previous read',
            "cursor",
        )
    return inode, offset


def log_files(current: Path) -> list[tuple[Path, int]]:
    """(path, inode) of the log and its rotated siblings on disk, oldest first."""
    files = []
    index = 1
    while True:
        path = current.with_name(f"{current.name}.{index}")
        try:
            files.append((path, os.stat(str(path)).st_ino))
        except FileNotFoundError:
            break
        index += 1
    files.reverse()
    with contextlib.suppress(FileNotFoundError):
        files.append((current, os.stat(str(current)).st_ino))
    return files


def _start_cursor(current: Path, files: list[tuple[Path, int]], tail_bytes: int | None) -> Cursor:
    if not files:
        return (0, 0)
    if tail_bytes is None:
        return (files[0][1], 0)
    path, inode = files[-1]
    size = os.stat(str(path)).st_size
    start = max(0, size - tail_bytes)
    if start > 0:
        with open(str(path), "rb") as f:
            f.seek(start - 1)
            chunk = f.read(min(tail_bytes + 1, 1 << 20))
        newline = chunk.find(b"\n")
        start = start + newline if newline >= 0 else size
    return (inode, start)


def read_once(
    current: Path, cursor: Cursor | None, max_bytes: int, final: bool, tail_bytes: int | None
) -> tuple[bytes, Cursor, bool, bool]:
    """Read what is there after ``cursor``: (data, new cursor, at the end, a gap was skipped)."""
    files = log_files(current)
    if cursor is None or cursor[0] == 0:
        cursor = _start_cursor(current, files, tail_bytes)
    gap = False
    inodes = [inode for _, inode in files]
    if files and cursor[0] not in inodes:
        # Rotated beyond the kept backups, or deleted: continue with the oldest file left.
        cursor, gap = (files[0][1], 0), True
    out = bytearray()
    index = inodes.index(cursor[0]) if files else 0
    offset = cursor[1]
    while files and len(out) < max_bytes:
        path, _inode = files[index]
        is_current = index == len(files) - 1
        with open(str(path), "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if offset > size:  # truncated under us: start over at its beginning
                offset, gap = 0, True
            f.seek(offset)
            data = f.read(max_bytes - len(out))
        if is_current and not final:
            cut = data.rfind(b"\n") + 1
            if cut:
                data = data[:cut]
            elif len(out) + len(data) < max_bytes:
                data = b""  # a partial line: wait for its newline
            # else: one line longer than max_bytes, handed out in pieces
        out += data
        offset += len(data)
        if is_current or offset < size:
            break
        index, offset = index + 1, 0  # the old file is done: go on with the next newer one
    if not files:
        return b"", cursor, True, gap
    at_end = index == len(files) - 1 and offset >= os.stat(str(files[-1][0])).st_size
    return bytes(out), (files[index][1], offset), at_end, gap


def read_job_log(
    job_dir: Path,
    state_of: Callable[[], str],
    cursor: Cursor | None,
    max_bytes: int,
    wait_s: float,
    tail_bytes: int | None,
    cancelled: threading.Event,
) -> dict[str, Any]:
    """``logs.read``: whole lines after the cursor, long-polling up to ``wait_s`` for new ones."""
    max_bytes = min(max_bytes, MAX_READ_BYTES)
    current = job_dir / "output.log"
    deadline = time.monotonic() + wait_s
    gap_seen = False
    while True:
        # Read the state first: once it is final, the supervisor has flushed all output.
        state = state_of()
        final = state in protocol.FINAL_STATES
        data, cursor, at_end, gap = read_once(current, cursor, max_bytes, final, tail_bytes)
        tail_bytes = None
        gap_seen = gap_seen or gap
        eof = final and at_end
        if cancelled.is_set() and not data:
            raise RequestCancelled("logs.read was cancelled")
        if data or eof or time.monotonic() >= deadline:
            return {
                "text": data.decode("utf-8", "replace"),
                "cursor": {"inode": cursor[0], "offset": cursor[1]},
                "eof": eof,
                "gap": gap_seen,
                "job_state": state,
            }
        cancelled.wait(POLL_S)


class JobLogSource(StreamSource):
    """A job's output as a stream: items are ``{"t": read time, "text": whole lines}``."""

    kind = "logs"

    def __init__(
        self,
        job_dir: Path,
        state_of: Callable[[], str],
        cursor: Cursor | None,
        tail_bytes: int | None,
    ) -> None:
        self.current = job_dir / "output.log"
        self.state_of = state_of
        self._tail_bytes = tail_bytes
        # Resolve the start now, so the subscribe reply can name it.
        _, self._cursor, _, _ = read_once(self.current, cursor, 0, False, tail_bytes)
        if cursor is not None and cursor[0] != 0:
            self._cursor = cursor

    @property
    def cursor(self) -> dict[str, Any]:
        return {"inode": self._cursor[0], "offset": self._cursor[1]}

    def read(self, max_bytes: int) -> StreamRead:
        try:
            state = self.state_of()
        except NotFound:
            return StreamRead([], self.cursor, ended=True)
        final = state in protocol.FINAL_STATES
        data, self._cursor, at_end, gap = read_once(
            self.current, self._cursor, max_bytes, final, None
        )
        items = [{"t": time.time(), "text": data.decode("utf-8", "replace")}] if data else []
        return StreamRead(
            items,
            self.cursor,
            size=len(data),
            gap={"reason": "rotated away or truncated before it was read", "bytes": None}
            if gap
            else None,
            ended=final and at_end,
        )
