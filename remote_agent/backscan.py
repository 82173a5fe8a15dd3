"""Reading a log backwards in 64 KiB blocks: where the N-th line before a position starts.

``tail_lines`` and ``logs.before`` need it; neither may read a whole file, so a multi-GB
log opens as fast as a small one. Blocks are read from the end towards the start and
only separators are looked at: nothing but one block is held at a time. Older rotated
files are entered only when uncompressed (a .gz cannot be read backwards cheaply).
"""

from __future__ import annotations

import io
from typing import NamedTuple

from .siblings import LogFile, open_log

BLOCK = 64 * 1024


class BackScan(NamedTuple):
    """The start reached in one file: line starts counted, output bytes it covers."""

    start: int
    lines: int
    size: int
    over_budget: bool  # stopped because one more line would not fit


class SetPosition(NamedTuple):
    """A start found across the rotated set: which file, where, and whether it is the
    earliest data that can be read (start of the oldest file, or a .gz next)."""

    file_index: int
    offset: int
    lines: int
    at_start: bool


def scan_back(
    f: io.BufferedIOBase, end: int, lines: int, budget: int | None = None, line_limit: int = 0
) -> BackScan:
    """Go back from ``end`` over up to ``lines`` line starts (positions after ``\\n``, and
    0), keeping the output of ``[start, end)`` within ``budget`` bytes once segments longer
    than ``line_limit`` are cut. If not even one line fits, start mid-line."""
    seps = (b"\n", b"\r") if line_limit > 0 else (b"\n",)
    total = found = 0
    accepted = fit = seg_end = end
    block_end = end
    while block_end > 0 and found < lines:
        block_start = max(0, block_end - BLOCK)
        f.seek(block_start)
        block = f.read(block_end - block_start)
        if len(block) < block_end - block_start:  # shrunk under us: start over from here
            block_end = block_start + len(block)
            continue
        hi = len(block)
        while found < lines:
            rel = max(block.rfind(sep, 0, hi) for sep in seps)
            if rel < 0:
                break
            p = block_start + rel
            cost = _cost(seg_end - p - 1, line_limit)
            if budget is not None and total + cost > budget:
                return _over(f, accepted, found, total, fit, seg_end, budget, end)
            total += cost
            fit = p + 1
            if block[rel] == 0x0A and p + 1 < end:
                found, accepted = found + 1, p + 1
            total += 1
            seg_end, hi = p, rel
        block_end = block_start
    if found < lines and block_end == 0 and end > 0:
        cost = _cost(seg_end, line_limit)  # the first segment of the file
        if budget is not None and total + cost > budget:
            return _over(f, accepted, found, total, fit, seg_end, budget, end)
        total += cost
        found, accepted = found + 1, 0
    return BackScan(accepted, found, total, False)


def _cost(length: int, line_limit: int) -> int:
    return min(length, line_limit) if line_limit > 0 else length


def _over(
    f: io.BufferedIOBase,
    accepted: int,
    found: int,
    total: int,
    fit: int,
    seg_end: int,
    budget: int,
    end: int,
) -> BackScan:
    """Out of budget: the last whole line that fitted, else a segment start, else mid-segment."""
    if found or fit < end:
        return BackScan(accepted if found else fit, found, total, True)
    if total > budget:
        return BackScan(end, 0, 0, True)
    start = max(0, seg_end - (budget - total))
    f.seek(start)
    head = f.read(4)  # never start inside a UTF-8 character
    skip = next((i for i, b in enumerate(head) if b & 0xC0 != 0x80), len(head))
    return BackScan(start + skip, 0, end - start - skip, True)


def whole_lines_end(f: io.BufferedIOBase, size: int) -> int:
    """The end of the last whole line: ``size`` if the file ends with ``\\n``, else the
    start of its unterminated last line."""
    if size == 0:
        return 0
    f.seek(size - 1)
    if f.read(1) == b"\n":
        return size
    scan = scan_back(f, size, 1)
    return scan.start if scan.lines else 0


def scan_set(
    files: list[LogFile],
    index: int,
    end: int,
    lines: int,
    budget: int | None = None,
    line_limit: int = 0,
) -> SetPosition:
    """``scan_back`` from ``end`` of ``files[index]``, going on into older uncompressed
    files while lines are missing. May raise ``Moved``/``FileNotFoundError`` (rotation)."""
    found = 0
    while True:
        with open_log(files[index]) as f:
            scan = scan_back(f, end, lines - found, budget, line_limit)
        found += scan.lines
        if budget is not None:
            budget -= scan.size
        older = index > 0 and not files[index - 1].compressed
        if found >= lines or scan.over_budget or scan.start > 0 or not older:
            return SetPosition(index, scan.start, found, scan.start == 0 and not older)
        index -= 1
        end = files[index].size
