"""``logs.read`` and ``logs.subscribe``: a job's log followed with a rotation-proof cursor.

The log is the job's ``output.log`` or another file under its cwd; the rotation logic
lives in ``follow``, the shared options (where to start, ``line_limit``, ``partial``) in
``logopts``. Without ``partial`` only whole lines are returned while the job runs; a
partial last line waits for its newline (or for the job to end).
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

from . import protocol
from .errors import InvalidParams, NotFound, RequestCancelled
from .follow import HEAD_BYTES, FileCursor, Follower
from .inotify import DirWatch
from .linecut import LineCutter
from .logopts import LogOptions, cursor_wire, read_reply, start_cursor
from .logpage import page_reply
from .paths import under_cwd
from .streams import StreamRead, StreamSource

DEFAULT_READ_BYTES = 1024 * 1024
MAX_READ_BYTES = 8 * 1024 * 1024
POLL_S = 0.1
# A log written without pause is read at most this often.
MIN_READ_GAP_S = 0.001
# While the log is busy the job's state is read this often, or when state.json changes.
STATE_LOOK_S = 0.1

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
    if head and (not isinstance(sha1, str) or not _SHA1.match(sha1) or head > HEAD_BYTES):
        raise InvalidParams(_CURSOR_HELP, "cursor")
    return FileCursor(inode, offset, sha1 if head else None, head)


cursor_to_wire = cursor_wire


def log_path(job: dict[str, Any], file: str | None, field: str) -> Path:
    """The job's ``output.log``, or ``file`` resolved under the job's cwd (never outside it)."""
    if file is None:
        return Path(job["job_dir"]) / "output.log"
    return under_cwd(job["cwd"], file, field, "file")


class JobLogPage(NamedTuple):
    """A ``logs.read`` reply, how many bytes of the files it went through, whether more."""

    reply: dict[str, Any]
    consumed: int
    more: bool = False
    """The read stopped for want of room: the next page can be read at once."""


def read_job_log(
    path: Path,
    job_dir: Path,
    state_of: Callable[[], str],
    cursor: FileCursor | None,
    options: LogOptions,
    max_bytes: int,
    wait_s: float,
    encoding: str,
    cancelled: threading.Event,
) -> JobLogPage:
    """``logs.read``: whole lines after the cursor, long-polling up to ``wait_s`` for new ones."""
    max_bytes = min(max_bytes, MAX_READ_BYTES)
    follower = Follower(path)
    if cursor is None or cursor.inode == 0:
        cursor = start_cursor(follower, job_dir, options)
    cutter = LineCutter(options.line_limit) if options.line_limit else None
    deadline = time.monotonic() + wait_s
    gap_reason = None
    try:
        while True:
            # Read the state first: once it is final, the supervisor has flushed all output.
            state = state_of()
            final = state in protocol.FINAL_STATES
            read = follower.read(cursor, max_bytes, final, options.partial, cutter)
            cursor = read.cursor
            gap_reason = gap_reason or read.gap
            eof = final and read.at_end
            if cancelled.is_set() and not read.data:
                raise RequestCancelled("logs.read was cancelled")
            news = read.data or read.cuts  # a cut may come with no text (right at a read's start)
            skipping = read.consumed and not news  # inside a cut segment: go on at once
            if news or eof or (time.monotonic() >= deadline and not skipping):
                reply = page_reply(read, encoding)
                reply.update(
                    cursor=cursor_wire(cursor),
                    eof=eof,
                    gap=gap_reason is not None,
                    gap_reason=gap_reason,
                    job_state=state,
                )
                return JobLogPage(reply, read.consumed, read.more)
            if not skipping:
                cancelled.wait(POLL_S)
    finally:
        follower.close()


class JobLogSource(StreamSource):
    """A job's log as a stream: items are ``{"t": read time, "text": whole lines, "cuts"?}``.
    Read at every inotify event about the log's names or the job's state (at most every
    ``MIN_READ_GAP_S``), so what a file holds only briefly is read in time."""

    kind = "logs"

    def __init__(
        self,
        path: Path,
        job_dir: Path,
        state_of: Callable[[], str],
        cursor: FileCursor | None,
        options: LogOptions | None = None,
    ) -> None:
        self.follower = Follower(path)

        def wanted(directory: Path, name: str) -> bool:
            if directory == job_dir and name == "state.json":
                self._state_changed = True
                return True
            return directory == path.parent and name.startswith(path.name)

        # The log's directory shows writes and rotations, the job's its end.
        self.watch = DirWatch(sorted({path.parent, job_dir}), wanted)
        self._last_read = 0.0
        self.state_of = state_of
        self._state: str | None = None
        self._state_at = 0.0
        self._state_changed = False
        self.options = options or LogOptions()
        limit = self.options.line_limit
        self.cutter = LineCutter(limit) if limit else None
        # Resolve the start now, so the subscribe reply can name it.
        if cursor is None or cursor.inode == 0:
            cursor = start_cursor(self.follower, job_dir, self.options)
        self._cursor = cursor

    @property
    def cursor(self) -> dict[str, Any]:
        return cursor_wire(self._cursor)

    def _job_state(self) -> str:
        """The job's state, read again only when it may have changed (an event on
        state.json, ``STATE_LOOK_S``): a log read at every write costs little."""
        now = time.monotonic()
        state = self._state
        if (
            state is None
            or now - self._state_at >= STATE_LOOK_S
            or self._state_changed
            or not self.watch.uses_inotify
        ):
            self._state_changed = False
            state = self._state = self.state_of()
            self._state_at = now
        return state

    def read(self, max_bytes: int) -> StreamRead:
        try:
            state = self._job_state()  # first: once final, all output has been flushed
        except NotFound:
            return StreamRead([], self.cursor, ended=True)
        final = state in protocol.FINAL_STATES
        self._last_read = time.monotonic()
        read = self.follower.read(self._cursor, max_bytes, final, self.options.partial, self.cutter)
        self._cursor = read.cursor
        items = [dict(read_reply(read), t=time.time())] if read.data or read.cuts else []
        return StreamRead(
            items,
            self.cursor,
            size=read.consumed,
            gap={"reason": read.gap, "bytes": None} if read.gap else None,
            ended=final and read.at_end,
            more=read.more,
        )

    def wait_idle(self, stopped: threading.Event, timeout: float) -> None:
        """Sleep until the log or the job changes (inotify) or ``timeout``; without inotify
        poll every ``POLL_S``."""
        if not self.watch.uses_inotify:
            stopped.wait(min(timeout, POLL_S))
            return
        if self.watch.wait(timeout):
            rest = self._last_read + MIN_READ_GAP_S - time.monotonic()
            if rest > 0:
                stopped.wait(rest)

    def join(self, items: list[Any]) -> list[Any]:
        """Reads without cuts merged into one item (the time of the first)."""
        joined: list[Any] = []
        for item in items:
            last = joined[-1] if joined else None
            if last is not None and "cuts" not in last and "cuts" not in item:
                joined[-1] = dict(last, text=last["text"] + item["text"])
            else:
                joined.append(item)
        return joined

    def wake(self) -> None:
        self.watch.wake()

    def close(self) -> None:
        self.follower.close()
        self.watch.close()
