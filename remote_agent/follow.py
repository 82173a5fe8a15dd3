"""Following any log file across rotation: a cursor that finds its file again.

A cursor is (inode, offset) plus a fingerprint: the sha1 of the file's first
``head_bytes`` bytes (at most ``HEAD_BYTES``, never more than was read). The file is
found again among the path and its rotated siblings (``name.1``, ``name.0``,
``name.2.gz``, ``name-20261121``, ...): by inode (rename rotation), else by the
fingerprint of its (decompressed) start (``compress``; the copy ``copytruncate`` made).
The same inode with another start, or a file shorter than the cursor, was truncated in
place (``copytruncate``): the copy is read first if it is on disk, then the file from
offset 0, and a gap says lines written between logrotate's copy and its truncate may be
lost. A rotated file is left only once a newer file has data, so a writer that reopens
late (on SIGHUP from ``postrotate``) loses nothing either.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from pathlib import Path
from typing import NamedTuple

from .siblings import STABLE_TRIES, LogFile, Moved, open_log, rotated_set

HEAD_BYTES = 256
COPYTRUNCATE = (
    "copytruncate: the file was truncated in place (or replaced); lines written between "
    "logrotate's copy and its truncate may be lost"
)
ROTATED_AWAY = "rotated away or deleted before it was read"


class FileCursor(NamedTuple):
    """Where a reader is: the file (inode, fingerprint of its start) and the byte offset."""

    inode: int
    offset: int
    head_sha1: str | None = None
    head_bytes: int = 0


START = FileCursor(0, 0)


class FollowRead(NamedTuple):
    """One read: the bytes, the cursor after them, whether all was read, a gap's reason."""

    data: bytes
    cursor: FileCursor
    at_end: bool
    gap: str | None


def head_sha1(log: LogFile, count: int) -> str | None:
    """sha1 of the first ``count`` (decompressed) bytes, or None if the file is shorter."""
    try:
        with open_log(log) as f:
            head = f.read(count)
    except FileNotFoundError:
        raise Moved(str(log.path)) from None
    except (OSError, EOFError):  # not gzip after all, or a .gz still being written
        return None
    return hashlib.sha1(head).hexdigest() if len(head) == count else None


def _same_start(log: LogFile, cursor: FileCursor) -> bool:
    return cursor.head_bytes == 0 or head_sha1(log, cursor.head_bytes) == cursor.head_sha1


class Follower:
    """Reads one log path across rotation; keeps an open .gz so paging through it is linear."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # (inode, position, reader) of the .gz being paged through.
        self._gz: tuple[int, int, io.BufferedIOBase] | None = None

    def start(self, tail_bytes: int | None) -> FileCursor:
        """The oldest rotated file's start, or ``tail_bytes`` before the end at a line start."""
        for _ in range(STABLE_TRIES):
            files = rotated_set(self.path)
            if not files:
                return START
            if tail_bytes is None:
                return FileCursor(files[0].inode, 0)
            try:
                return self._tail_start(files[-1], tail_bytes)
            except (Moved, FileNotFoundError):
                continue  # replaced while we looked: look again
        return START

    def _tail_start(self, log: LogFile, tail_bytes: int) -> FileCursor:
        start = max(0, log.size - tail_bytes)
        if start > 0:
            with open_log(log) as f:
                f.seek(start - 1)
                chunk = f.read(min(tail_bytes + 1, 1 << 20))
            newline = chunk.find(b"\n")
            start = start + newline if newline >= 0 else log.size
        return self._advance(log, FileCursor(log.inode, 0), start)

    def locate(
        self, files: list[LogFile], cursor: FileCursor
    ) -> tuple[int, FileCursor, str | None]:
        """Index of the cursor's file in ``files``, the cursor to read from there, a gap."""
        truncated = None
        for index, log in enumerate(files):
            if log.inode != cursor.inode:
                continue
            if (log.compressed or log.size >= cursor.offset) and _same_start(log, cursor):
                return index, cursor, None
            if not log.compressed:
                truncated = index  # same inode, other content: truncated in place
        if cursor.head_bytes:
            # Moved to a new inode: compressed, or the copy copytruncate made.
            for index, log in sorted(enumerate(files), key=lambda pair: pair[1].compressed):
                if log.inode != cursor.inode and _same_start(log, cursor):
                    return index, cursor, None
        if truncated is not None:
            return truncated, FileCursor(files[truncated].inode, 0), COPYTRUNCATE
        return 0, FileCursor(files[0].inode, 0), ROTATED_AWAY

    def read(self, cursor: FileCursor | None, max_bytes: int, final: bool) -> FollowRead:
        """Whole lines after ``cursor`` (all bytes once ``final``), across rotated files."""
        files = rotated_set(self.path)
        if cursor is None or cursor.inode == 0:
            cursor = self.start(None)
        if not files:
            return FollowRead(b"", cursor, True, None)
        try:
            index, cursor, gap = self.locate(files, cursor)
        except Moved:  # logrotate is renaming: look again at the next read
            return FollowRead(b"", cursor, False, None)
        out = bytearray()
        while True:
            log = files[index]
            # Look at the newer files before reading: once one has data, the writer has
            # moved on, so what this read finds is all this file will ever hold.
            newer_has_data = any(f.size > 0 or f.compressed for f in files[index + 1 :])
            room = max_bytes - len(out)
            try:
                data, eof = self._read_at(log, cursor.offset, room)
            except (Moved, FileNotFoundError, EOFError, gzip.BadGzipFile):
                # Renamed or compressed under us, or a .gz still being written: next time.
                self.close()
                return FollowRead(bytes(out), cursor, False, gap)
            leaving = newer_has_data and eof
            if not leaving and not final:
                cut = data.rfind(b"\n") + 1
                if cut < len(data):
                    eof = False
                if cut:
                    data = data[:cut]
                elif len(data) < room:
                    data = b""  # a partial line: wait for its newline
            out += data
            cursor = self._advance(log, cursor, cursor.offset + len(data))
            if not leaving:
                return FollowRead(bytes(out), cursor, eof and not newer_has_data, gap)
            if len(out) >= max_bytes:
                return FollowRead(bytes(out), cursor, False, gap)
            nxt, live = files[index + 1], files[-1]
            if cursor.inode != log.inode and cursor.inode == live.inode:
                # This was a copy copytruncate made of the live file, which started over.
                if out or gap:
                    return FollowRead(bytes(out), cursor, False, gap)  # the gap goes first
                gap = COPYTRUNCATE
                # Reading a newer copy, the cursor keeps the live inode and so stays
                # in this chain; the copy itself is known by its fingerprint.
                cursor = FileCursor(nxt.inode if nxt is live else live.inode, 0)
            else:
                cursor = FileCursor(nxt.inode, 0)
            index += 1

    def _read_at(self, log: LogFile, offset: int, count: int) -> tuple[bytes, bool]:
        """Up to ``count`` bytes at ``offset`` and whether they reach the file's end."""
        if not log.compressed:
            with open_log(log) as f:
                f.seek(offset)
                data = f.read(count)
                return data, offset + len(data) >= os.fstat(f.fileno()).st_size
        if self._gz is None or self._gz[:2] != (log.inode, offset):
            self.close()
            stream = open_log(log)  # kept open: the next read goes on where this one ends
            self._gz = (log.inode, 0, stream)
            stream.seek(offset)
        stream = self._gz[2]
        data = stream.read(count)
        self._gz = (log.inode, offset + len(data), stream)
        return data, len(data) < count

    def _advance(self, log: LogFile, cursor: FileCursor, offset: int) -> FileCursor:
        """The cursor at ``offset`` of ``log``, its fingerprint grown up to ``HEAD_BYTES``."""
        covered = min(offset, HEAD_BYTES)
        if covered <= cursor.head_bytes:
            return cursor._replace(offset=offset)
        try:
            digest = head_sha1(log, covered)
        except Moved:  # grown later, at a quieter moment
            digest = None
        if digest is None:
            return cursor._replace(offset=offset)
        return FileCursor(cursor.inode, offset, digest, covered)

    def close(self) -> None:
        if self._gz is not None:
            self._gz[2].close()
            self._gz = None
