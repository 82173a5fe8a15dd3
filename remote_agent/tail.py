"""``logs.read`` and ``logs.subscribe``: a job's log followed with a rotation-proof cursor.

The log is the job's ``output.log`` or another file under its cwd (``logfile``); the
rotation logic lives in ``follow``. Only whole lines are returned while the job runs; a
partial last line waits for its newline (or for the job to end).
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any, Callable

from . import protocol
from .errors import InvalidParams, NotFound, RequestCancelled
from .follow import FileCursor, Follower
from .inotify import DirWatch
from .streams import StreamRead, StreamSource

DEFAULT_READ_BYTES = 1024 * 1024
MAX_READ_BYTES = 8 * 1024 * 1024
POLL_S = 0.1
IDLE_WAIT_S = 2.0  # with inotify: a look now and then even without an event

_CURSOR_HELP = (
    'cursor must be {"inode": int, "offset": int, "head_sha1"?: str, "head_bytes"?: int} '
    "as returned by a previous read"
)
_SHA1 = re.compile(r"^[0-9a-f]{40}$")


def parse_cursor(raw: dict[str, Any] | None) -> FileCursor | None:
    """A wire cursor; one without the fingerprint fields (older clients) still works."""
    if raw is None:
        return None
    inode, offset = raw.get("inode"), raw.get("offset")
    sha1, head = raw.get("head_sha1"), raw.get("head_bytes", 0)
    ints = [v for v in (inode, offset, head) if isinstance(v, int) and not isinstance(v, bool)]
    if len(ints) != 3 or min(ints) < 0:
        raise InvalidParams(_CURSOR_HELP, "cursor")
    inode, offset, head = ints
    if head and (not isinstance(sha1, str) or not _SHA1.match(sha1) or head > offset):
        raise InvalidParams(_CURSOR_HELP, "cursor")
    return FileCursor(inode, offset, sha1 if head else None, head)


def cursor_to_wire(cursor: FileCursor) -> dict[str, Any]:
    wire: dict[str, Any] = {"inode": cursor.inode, "offset": cursor.offset}
    if cursor.head_bytes:
        wire["head_sha1"] = cursor.head_sha1
        wire["head_bytes"] = cursor.head_bytes
    return wire


def log_path(job: dict[str, Any], file: str | None, field: str) -> Path:
    """The job's ``output.log``, or ``file`` resolved under the job's cwd (never outside it)."""
    if file is None:
        return Path(job["job_dir"]) / "output.log"
    if not file or "\x00" in file:
        raise InvalidParams(f"{field} must be a non-empty path without NUL", field)
    cwd = Path(job["cwd"]).resolve()
    path = (cwd / file).resolve()  # an absolute ``file`` replaces cwd here
    if path == cwd or cwd not in path.parents:
        raise InvalidParams(
            f"{field} {file!r} resolves to {str(path)!r}, which is not a file under the "
            f"job's cwd {str(cwd)!r}: name a log inside it (relative paths are from the cwd)",
            field,
        )
    return path


def read_job_log(
    path: Path,
    state_of: Callable[[], str],
    cursor: FileCursor | None,
    max_bytes: int,
    wait_s: float,
    tail_bytes: int | None,
    cancelled: threading.Event,
) -> dict[str, Any]:
    """``logs.read``: whole lines after the cursor, long-polling up to ``wait_s`` for new ones."""
    max_bytes = min(max_bytes, MAX_READ_BYTES)
    follower = Follower(path)
    if cursor is None or cursor.inode == 0:
        cursor = follower.start(tail_bytes)
    deadline = time.monotonic() + wait_s
    gap_reason = None
    try:
        while True:
            # Read the state first: once it is final, the supervisor has flushed all output.
            state = state_of()
            final = state in protocol.FINAL_STATES
            read = follower.read(cursor, max_bytes, final)
            cursor = read.cursor
            gap_reason = gap_reason or read.gap
            eof = final and read.at_end
            if cancelled.is_set() and not read.data:
                raise RequestCancelled("logs.read was cancelled")
            if read.data or eof or time.monotonic() >= deadline:
                return {
                    "text": read.data.decode("utf-8", "replace"),
                    "cursor": cursor_to_wire(cursor),
                    "eof": eof,
                    "gap": gap_reason is not None,
                    "gap_reason": gap_reason,
                    "job_state": state,
                }
            cancelled.wait(POLL_S)
    finally:
        follower.close()


class JobLogSource(StreamSource):
    """A job's log as a stream: items are ``{"t": read time, "text": whole lines}``."""

    kind = "logs"

    def __init__(
        self,
        path: Path,
        job_dir: Path,
        state_of: Callable[[], str],
        cursor: FileCursor | None,
        tail_bytes: int | None,
    ) -> None:
        self.follower = Follower(path)
        # The log's directory shows writes and rotations, the job's its end.
        self.watch = DirWatch(sorted({path.parent, job_dir}))
        self._last_read = 0.0
        self.state_of = state_of
        # Resolve the start now, so the subscribe reply can name it.
        if cursor is None or cursor.inode == 0:
            cursor = self.follower.start(tail_bytes)
        self._cursor = cursor

    @property
    def cursor(self) -> dict[str, Any]:
        return cursor_to_wire(self._cursor)

    def read(self, max_bytes: int) -> StreamRead:
        try:
            state = self.state_of()
        except NotFound:
            return StreamRead([], self.cursor, ended=True)
        final = state in protocol.FINAL_STATES
        self._last_read = time.monotonic()
        read = self.follower.read(self._cursor, max_bytes, final)
        self._cursor = read.cursor
        items = (
            [{"t": time.time(), "text": read.data.decode("utf-8", "replace")}] if read.data else []
        )
        return StreamRead(
            items,
            self.cursor,
            size=len(read.data),
            gap={"reason": read.gap, "bytes": None} if read.gap else None,
            ended=final and read.at_end,
        )

    def wait_idle(self, stopped: threading.Event, timeout: float) -> None:
        """Sleep until the directories change (inotify), else poll every ``timeout``."""
        if not self.watch.uses_inotify:
            stopped.wait(timeout)
            return
        self.watch.wait(IDLE_WAIT_S)
        # A chatty neighbour file must not make us read more often than polling would.
        rest = self._last_read + timeout - time.monotonic()
        if rest > 0:
            stopped.wait(rest)

    def wake(self) -> None:
        self.watch.wake()

    def close(self) -> None:
        self.follower.close()
        self.watch.close()
