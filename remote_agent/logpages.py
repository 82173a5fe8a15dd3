"""``logs.before`` (the lines before a cursor, for scrolling up) and ``logs.files``.

Scrolling up reads backwards from the cursor in blocks (``backscan``), through older
uncompressed rotated files, and never more than ``MAX_BEFORE_BYTES`` of text per reply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import backscan
from .errors import Unavailable
from .follow import FileCursor, Follower
from .linecut import Cut, LineCutter, render, utf8_boundary
from .logopts import cursor_wire
from .siblings import STABLE_TRIES, LogFile, Moved, open_log, rotated_set

MAX_BEFORE_BYTES = 8 * 1024 * 1024
BLOCK = 64 * 1024


def read_before(path: Path, cursor: FileCursor, lines: int, line_limit: int) -> dict[str, Any]:
    """Up to ``lines`` whole lines ending right before ``cursor``; ``at_start`` when nothing
    earlier can be read. A cursor whose file is gone, truncated or compressed has nothing
    readable before it."""
    follower = Follower(path)
    for _ in range(STABLE_TRIES):
        files = rotated_set(path)
        try:
            index, found, gap = follower.locate(files, cursor) if files else (0, cursor, "")
            if gap is not None or cursor.inode == 0 or files[index].compressed:
                return {"text": "", "cursor": cursor_wire(cursor), "at_start": True}
            end = min(found.offset, files[index].size)
            start = backscan.scan_set(files, index, end, lines, MAX_BEFORE_BYTES, line_limit)
            data, cuts = _read_forward(follower, files, start, index, end, line_limit)
            first = files[start.file_index]
            start_cursor = follower.cursor_at(first, start.offset)
        except (Moved, FileNotFoundError):
            continue  # rotated while we read: look again
        text, wire_cuts = render(data, [(at, cursor_wire(line)) for at, line in cuts])
        reply = {"text": text, "cursor": cursor_wire(start_cursor), "at_start": start.at_start}
        if wire_cuts:
            reply["cuts"] = wire_cuts
        return reply
    raise Unavailable(f"{path} kept being rotated while it was read: try again")


def _read_forward(
    follower: Follower,
    files: list[LogFile],
    start: backscan.SetPosition,
    last: int,
    end: int,
    line_limit: int,
) -> tuple[bytes, list[tuple[int, FileCursor]]]:
    """The bytes from ``start`` up to ``end`` of ``files[last]``, cut by ``line_limit``."""
    out = bytearray()
    cuts: list[tuple[int, FileCursor]] = []
    cutter = LineCutter(line_limit)
    for index in range(start.file_index, last + 1):
        log = files[index]
        pos = start.offset if index == start.file_index else 0
        stop = end if index == last else log.size
        # Reading starts at a line start (or, for a line over the budget, mid-line).
        if pos:
            cutter.resume(log, log.inode, pos, b"\n")
        else:
            cutter.start_file(log, log.inode)
        with open_log(log) as f:
            f.seek(pos)
            read_to, carry = pos, b""
            while read_to < stop:
                new = f.read(min(BLOCK, stop - read_to))
                if not new:
                    break  # shorter than listed: truncated under us
                read_to += len(new)
                block = carry + new
                # Blocks end on character boundaries, so a cut never splits one.
                keep = len(block) if read_to >= stop else utf8_boundary(block, len(block))
                sent, made = cutter.feed(log, log.inode, pos, block[:keep])
                cuts.extend(_cut(follower, log, len(out), cut) for cut in made)
                out += sent
                pos, carry = pos + keep, block[keep:]
            out += carry
    return bytes(out), cuts


def _cut(follower: Follower, log: LogFile, base: int, cut: Cut) -> tuple[int, FileCursor]:
    return base + cut.at, follower.line_cursor(cut.line, (log, cut.segment_start))


def list_files(path: Path) -> dict[str, Any]:
    """The followed file's rotated set, oldest first, with sizes (of a .gz: compressed)."""
    files = rotated_set(path)
    return {
        "files": [
            {
                "name": f.path.name,
                "size": f.size,
                "compressed": f.compressed,
                "inode": f.inode,
                "mtime": f.mtime,
            }
            for f in files
        ],
        "total_bytes": sum(f.size for f in files),
    }
