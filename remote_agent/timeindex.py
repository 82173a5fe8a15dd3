"""``<job dir>/output.times``: when the job's output was written, for ``since``.

The supervisor appends a record at most once a second while output is written: the wall
time and the cursor of the first line that *starts* in that write (inode, offset and the
fingerprint of the file's start, so the follower finds it again after rename rotation
or compression). Lines between two records started within a second of the first one.
Records are fixed-width text, so ``since`` finds its place by binary search with seeks.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Callable, NamedTuple

from .follow import HEAD_BYTES, FileCursor

log = logging.getLogger("remote_agent.timeindex")

RECORD_FORMAT = "{:017.6f} {:020d} {:020d} {} {:03d}\n"
RECORD_BYTES = 105
NO_SHA1 = "-" * 40
EVERY_S = 1.0


class Record(NamedTuple):
    time: float
    cursor: FileCursor


class TimeIndexWriter:
    """Appends records for the writes ``RotatingLog`` reports (its ``on_write`` hook)."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.fd = os.open(str(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.clock = clock
        self.last = float("-inf")
        self.at_line_start = True  # the last byte written was a newline

    def on_write(self, inode: int, offset: int, head: bytes, data: bytes) -> None:
        """``data`` goes to ``offset`` of file ``inode``, whose first bytes are ``head``."""
        if not data:
            return
        fresh = offset == 0 or self.at_line_start
        self.at_line_start = data.endswith(b"\n")
        now = self.clock()
        if now - self.last < EVERY_S:
            return
        start = 0 if fresh else data.find(b"\n") + 1
        if (start == 0 and not fresh) or start >= len(data):
            return  # no line starts in this write: the next one that has one is noted
        position = offset + start
        head_bytes = min(position, HEAD_BYTES)
        head = (head + data[: max(0, head_bytes - len(head))])[:head_bytes]
        sha1 = hashlib.sha1(head).hexdigest() if head_bytes else NO_SHA1
        record = RECORD_FORMAT.format(now, inode, position, sha1, head_bytes)
        try:
            os.write(self.fd, record.encode("ascii"))
        except OSError as e:  # disk full: the log itself matters more
            log.error("cannot write output.times: %s", e)
        self.last = now

    def close(self) -> None:
        os.close(self.fd)


def _parse(raw: bytes) -> Record:
    stamp, inode, offset, sha1, head = raw.decode("ascii").split()
    head_bytes = int(head)
    return Record(
        float(stamp),
        FileCursor(int(inode), int(offset), sha1 if head_bytes else None, head_bytes),
    )


class AfterAll(NamedTuple):
    """``since`` is later than every line written: start at the end."""


AFTER_ALL = AfterAll()


def find_since(path: Path, since: float) -> FileCursor | AfterAll | None:
    """The cursor of the first line written at or after ``since`` (to the second); None
    if ``since`` is before the first record (or there is no index): start at the oldest."""
    try:
        f = open(str(path), "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None
    with f:
        count = os.fstat(f.fileno()).st_size // RECORD_BYTES

        def record(index: int) -> Record:
            f.seek(index * RECORD_BYTES)
            return _parse(f.read(RECORD_BYTES))

        lo, hi = 0, count  # the first record later than ``since`` is in [lo, hi]
        while lo < hi:
            mid = (lo + hi) // 2
            if record(mid).time <= since:
                lo = mid + 1
            else:
                hi = mid
        if lo == 0:
            return None
        last = record(lo - 1)
        if since < last.time + EVERY_S:
            return last.cursor
        return record(lo).cursor if lo < count else AFTER_ALL
