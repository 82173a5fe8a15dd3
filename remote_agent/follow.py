"""Following any log file across rotation: a cursor that finds its file again.

A cursor is (inode, offset) plus a fingerprint: the sha1 of the file's first
``head_bytes`` bytes (at most ``HEAD_BYTES``, of what the file held, read or not). The file is
found again among the path and its rotated siblings (``name.1``, ``name.0``,
``name.2.gz``, ``name-20261121``, ...): by inode (rename rotation), else by the
fingerprint of its (decompressed) start (``compress``; the copy ``copytruncate`` made).
The live file with the cursor's inode but another start, or shorter than the cursor,
was truncated in place (``copytruncate``): the copy is read first if it is on disk, then
the file from offset 0, with a gap (lines written between logrotate's copy and its
truncate may be lost) — unless the fingerprint's holder is older than the live file,
which then only got the deleted cursor file's inode (``fileid``). A .gz still being
written is waited for. A rotated file is left only once a newer file has data, so a
writer that reopens late (on SIGHUP from ``postrotate``) loses nothing either.
"""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path
from typing import Any, NamedTuple

from . import backscan
from .fileid import copy_in_progress, copy_of, head_sha1, holds_start, same_start
from .linecut import LineCutter, sync, utf8_boundary
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
    """One read: the bytes, the cursor after them, whether all was read, a gap's reason,
    the cuts ``line_limit`` made (byte index into ``data``, cursor of the line's start),
    how many file bytes were gone through, and whether more can be read at once."""

    data: bytes
    cursor: FileCursor
    at_end: bool
    gap: str | None
    cuts: tuple[tuple[int, FileCursor], ...] = ()
    consumed: int = 0
    more: bool = False


def _same_start(log: LogFile, cursor: FileCursor) -> bool:
    return same_start(log, cursor.head_bytes, cursor.head_sha1)


class Follower:
    """Reads one log path across rotation; keeps an open .gz so paging through it is linear."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # (inode, position, reader) of the .gz being paged through.
        self._gz: tuple[int, int, io.BufferedIOBase] | None = None

    def start(self, tail_bytes: int | None, tail_lines: int | None = None) -> FileCursor:
        """The oldest rotated file's start, or the start of the ``tail_lines``-th whole line
        before the end (reading backwards), or ``tail_bytes`` before the end at a line start."""
        for _ in range(STABLE_TRIES):
            files = rotated_set(self.path)
            if not files:
                return START
            try:
                if tail_lines is not None:
                    return self._tail_lines_start(files, tail_lines)
                if tail_bytes is not None:
                    return self._tail_start(files[-1], tail_bytes)
                return FileCursor(files[0].inode, 0)
            except (Moved, FileNotFoundError):
                continue  # replaced while we looked: look again
        return START

    def _tail_lines_start(self, files: list[LogFile], lines: int) -> FileCursor:
        newest = files[-1]
        with open_log(newest) as f:
            end = backscan.whole_lines_end(f, newest.size)
        found = backscan.scan_set(files, len(files) - 1, end, lines)
        log = files[found.file_index]
        return self._advance(log, FileCursor(log.inode, 0), found.offset)

    def cursor_at(self, log: LogFile, offset: int) -> FileCursor:
        """A cursor for ``offset`` of ``log``, with its fingerprint."""
        return self._advance(log, FileCursor(log.inode, 0), offset)

    def order(self, files: list[LogFile], cursor: FileCursor) -> tuple[int, int]:
        """Where ``cursor`` is in the set, to compare two starts; (-1, 0) if gone."""
        index, found, gap = self.locate(files, cursor)
        return (-1, 0) if gap else (index, found.offset)

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
        """Index of the cursor's file in ``files``, the cursor to read from there, a gap.
        Raises ``Moved`` while a .gz that may hold the cursor's file is being written."""
        truncated = None
        for index, log in enumerate(files):
            if log.inode != cursor.inode:
                continue
            if (log.compressed or log.size >= cursor.offset) and _same_start(log, cursor):
                return index, cursor, None
            if log.path == self.path:
                truncated = index  # same inode, other content: truncated in place, or reused
        if cursor.head_bytes:
            # Moved to a new inode: compressed, or the copy copytruncate made.
            pending = None
            for index, log in sorted(enumerate(files), key=lambda pair: pair[1].compressed):
                if log.inode == cursor.inode:
                    continue
                holds = holds_start(log, cursor.head_bytes, cursor.head_sha1)
                if holds is None:
                    pending = log
                elif holds:
                    # A copy copytruncate made keeps the live inode (at its end the live file
                    # starts over); else the holder is the cursor's file under a new inode.
                    copy = truncated is not None and copy_of(log, files[truncated])
                    return index, cursor if copy else cursor._replace(inode=log.inode), None
            if pending is not None:
                raise Moved(f"{pending.path} is still being written")
        if truncated is not None:
            return truncated, FileCursor(files[truncated].inode, 0), COPYTRUNCATE
        return 0, FileCursor(files[0].inode, 0), ROTATED_AWAY

    def read(
        self,
        cursor: FileCursor | None,
        max_bytes: int,
        final: bool,
        partial: bool = False,
        cutter: LineCutter | None = None,
    ) -> FollowRead:
        """Whole lines after ``cursor`` (all bytes once ``final``; with ``partial`` also the
        unterminated last line up to a character boundary), across rotated files; over-long
        segments cut by ``cutter``. ``max_bytes`` bounds the file bytes gone through."""
        data, cursor, at_end, gap, cuts, consumed, more = self._read(
            cursor, max_bytes, final, partial, cutter
        )
        wire_cuts = tuple((at, self.line_cursor(line, start)) for at, line, start in cuts)
        return FollowRead(data, cursor, at_end, gap, wire_cuts, consumed, more)

    def line_cursor(self, line: Any, segment: tuple[LogFile, int]) -> FileCursor:
        """The cursor of a cut line's start; found by reading back when it was not seen."""
        if line is None:
            log, offset = segment
            try:
                with open_log(log) as f:
                    scan = backscan.scan_back(f, offset, 1) if not log.compressed else None
            except (Moved, FileNotFoundError):
                scan = None
            line = (log, scan.start if scan and scan.lines else offset)
        return self.cursor_at(line[0], line[1])

    def _read(
        self,
        cursor: FileCursor | None,
        max_bytes: int,
        final: bool,
        partial: bool,
        cutter: LineCutter | None,
    ) -> tuple[bytes, FileCursor, bool, str | None, list[tuple[int, Any, Any]], int, bool]:
        if cursor is None or cursor.inode == 0:
            cursor = self.start(None)
        files, index, gap = self._live_only(cursor), 0, None
        if not files:
            files = rotated_set(self.path)
            if not files:
                return b"", cursor, True, None, [], 0, False
            try:
                index, cursor, gap = self.locate(files, cursor)
            except Moved:  # logrotate is renaming (or compressing): look again next read
                return b"", cursor, False, None, [], 0, False
        out: list[bytes] = []  # joined once at the end: a big read is never copied twice
        sent = 0
        cuts: list[tuple[int, Any, Any]] = []
        consumed = 0
        while True:
            log = files[index]
            # Look at the newer files before reading: once one has data, the writer has
            # moved on, so what this read finds is all this file will ever hold.
            newer_has_data = any(f.size > 0 or f.compressed for f in files[index + 1 :])
            # A copytruncate copy is left only once the live file was truncated: until then
            # logrotate may still be writing it, and its end is not the end.
            in_copy = cursor.inode != log.inode and cursor.inode == files[-1].inode
            complete = not (in_copy and newer_has_data and copy_in_progress(log, self.path))
            room = max_bytes - consumed
            try:
                data, eof = self._read_at(log, cursor.offset, room)
                if cutter is not None:
                    sync(cutter, log, cursor.inode, cursor.offset)
            except (Moved, FileNotFoundError, EOFError, gzip.BadGzipFile):
                # Renamed or compressed under us, or a .gz still being written: next time.
                self.close()
                return b"".join(out), cursor, False, gap, cuts, consumed, False
            filled = len(data) == room
            leaving = newer_has_data and eof and complete
            if not leaving and not final:
                keep = len(data) if partial else data.rfind(b"\n") + 1
                if keep == 0 and len(data) == room:
                    keep = len(data)  # a piece of a line longer than a read
                if keep and data[keep - 1] != 0x0A:
                    # Never split a character (unless the read is too small to hold one).
                    keep = utf8_boundary(data, keep) or (keep if len(data) == room else 0)
                if keep < len(data):
                    eof = False
                    data = data[:keep]
            if cutter is None:
                out.append(data)
                sent += len(data)
            else:
                piece, made = cutter.feed(log, cursor.inode, cursor.offset, data)
                cuts.extend((sent + c.at, c.line, (log, c.segment_start)) for c in made)
                out.append(piece)
                sent += len(piece)
            consumed += len(data)
            cursor = self._advance(log, cursor, cursor.offset + len(data))
            if not leaving:
                at_end = eof and not newer_has_data
                return b"".join(out), cursor, at_end, gap, cuts, consumed, filled
            if consumed >= max_bytes:
                return b"".join(out), cursor, False, gap, cuts, consumed, True
            nxt, live = files[index + 1], files[-1]
            if cursor.inode != log.inode and cursor.inode == live.inode:
                # This was a copy copytruncate made of the live file, which started over.
                if consumed or gap:  # the gap goes first
                    return b"".join(out), cursor, False, gap, cuts, consumed, True
                gap = COPYTRUNCATE
                # Reading a newer copy, the cursor keeps the live inode and so stays
                # in this chain; the copy itself is known by its fingerprint.
                cursor = FileCursor(nxt.inode if nxt is live else live.inode, 0)
            else:
                cursor = FileCursor(nxt.inode, 0)
            index += 1

    def _live_only(self, cursor: FileCursor) -> list[LogFile]:
        """The live file alone when the cursor is in it (nothing newer can exist then), so
        a log read at every write is not listed with its siblings each time; else []."""
        try:
            st = os.stat(str(self.path))
        except FileNotFoundError:
            return []
        live = LogFile(self.path, st.st_ino, st.st_size, False, st.st_mtime)
        try:
            mine = st.st_ino == cursor.inode and st.st_size >= cursor.offset
            return [live] if mine and _same_start(live, cursor) else []
        except Moved:
            return []

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
        """The cursor at ``offset`` of ``log``, its fingerprint grown up to ``HEAD_BYTES``.

        The fingerprint covers what the file holds, not only what was read: a cursor at
        offset 0 (just after a truncation) still knows its file, so a second copytruncate
        while the reader is away is seen, and the copy holding the unread lines is read.
        """
        for covered in (min(HEAD_BYTES, max(offset, log.size)), min(HEAD_BYTES, offset)):
            if covered <= cursor.head_bytes:
                break
            try:
                digest = head_sha1(log, covered)
            except Moved:  # grown later, at a quieter moment
                break
            if digest is not None:
                return FileCursor(cursor.inode, offset, digest, covered)
        return cursor._replace(offset=offset)

    def close(self) -> None:
        if self._gz is not None:
            self._gz[2].close()
            self._gz = None
