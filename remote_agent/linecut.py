"""``line_limit``: over-long segments of a log cut short without ever buffering them.

A segment is the bytes between two separators (``\\n`` or ``\\r``). One longer than the
limit keeps its first ``limit`` bytes (backed off to a UTF-8 character boundary); the rest
is skipped up to the next separator, however many reads that takes: the cutter counts,
it never holds the segment. Keras/tqdm ``\\r`` redraws are short segments and pass whole.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Tuple

from .siblings import LogFile, open_log

# A line start the cutter saw: (the file it is in, as the caller names it; its offset).
LineStart = Tuple[Any, int]


class Cut(NamedTuple):
    """A cut: where in the output, the start of its line (None: not seen), its segment's start."""

    at: int
    line: LineStart | None
    segment_start: int


def utf8_boundary(data: bytes, end: int) -> int:
    """The last position at or before ``end`` that does not split a UTF-8 character."""
    for back in range(1, min(4, end) + 1):
        byte = data[end - back]
        if byte & 0xC0 != 0x80:  # ASCII or a lead byte: how long is its character?
            need = 1 if byte < 0xC0 else 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return end - back if back < need else end
    return end


def _last_separator(data: bytes, start: int, end: int) -> int:
    return max(data.rfind(b"\n", start, end), data.rfind(b"\r", start, end))


def _first_separator(data: bytes, start: int) -> int:
    found = [i for i in (data.find(b"\n", start), data.find(b"\r", start)) if i >= 0]
    return min(found) if found else -1


class LineCutter:
    """Cuts segments longer than ``limit`` bytes out of a stream of reads (0: never)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.segment = 0  # bytes of the current segment seen so far
        self.skipping = False  # inside a segment that was cut: drop up to its separator
        self.line: LineStart | None = None
        self.position: tuple[int, int] | None = None  # (inode, offset) the next feed must be at

    def start_file(self, file: Any, inode: int) -> None:
        """Reading begins at offset 0 of a file: a fresh line."""
        self.segment, self.skipping, self.line = 0, False, (file, 0)
        self.position = (inode, 0)

    def resume(self, file: Any, inode: int, offset: int, before: bytes) -> None:
        """Reading begins mid-file: the state follows from the bytes just ``before`` it."""
        self.position = (inode, offset)
        self.skipping, self.line = False, None
        newline = before.rfind(b"\n")
        if newline >= 0:
            self.line = (file, offset - len(before) + newline + 1)
        separator = _last_separator(before, 0, len(before))
        if separator >= 0:
            self.segment = len(before) - separator - 1
        elif len(before) == offset:  # the segment began at the file's start
            self.segment, self.line = offset, (file, 0)
        else:  # no separator in the last ``limit + 1`` bytes: that segment was cut already
            self.segment, self.skipping = 0, True
        if self.segment > self.limit:
            self.segment, self.skipping = 0, True

    def feed(self, file: Any, inode: int, offset: int, data: bytes) -> tuple[bytes, list[Cut]]:
        """The bytes to send for ``data`` (read at ``offset`` of ``file``) and the cuts made."""
        self.position = (inode, offset + len(data))
        if self.limit <= 0 or not data:
            return data, []
        pieces: list[bytes] = []
        cuts: list[Cut] = []
        sent = 0
        pos = 0
        if self.skipping:
            pos = _first_separator(data, 0)
            if pos < 0:
                return b"", []
            self.skipping, self.segment = False, 0
        emit_from = pos
        while True:
            segment_start = pos - self.segment
            window_end = segment_start + self.limit + 1
            if window_end > len(data):  # cannot be over the limit within this read
                last = _last_separator(data, pos, len(data))
                self.segment = len(data) - last - 1 if last >= 0 else self.segment + len(data) - pos
                break
            last = _last_separator(data, pos, window_end)
            if last >= 0:  # every segment up to ``last`` fits: go on after it
                pos, self.segment = last + 1, 0
                continue
            cut = max(pos, utf8_boundary(data, segment_start + self.limit))
            pieces.append(data[emit_from:cut])
            sent += cut - emit_from
            line = self._line_of(file, offset, data, segment_start)
            cuts.append(Cut(sent, line, offset + max(segment_start, 0)))
            resume_at = _first_separator(data, window_end)
            if resume_at < 0:
                self.skipping, self.segment, emit_from = True, 0, len(data)
                break
            pos = emit_from = resume_at
            self.segment = 0
        if emit_from < len(data):
            pieces.append(data[emit_from:] if emit_from else data)
        newline = data.rfind(b"\n")
        if newline >= 0:
            self.line = (file, offset + newline + 1)
        return (pieces[0] if len(pieces) == 1 else b"".join(pieces)), cuts

    def _line_of(self, file: Any, offset: int, data: bytes, segment_start: int) -> LineStart | None:
        newline = data.rfind(b"\n", 0, max(segment_start, 0))
        return (file, offset + newline + 1) if newline >= 0 else self.line


def sync(cutter: LineCutter, log: LogFile, inode: int, offset: int) -> None:
    """Bring a cutter to a cursor: a file start is a fresh line; mid-file, the bytes before
    the cursor (up to the limit) say how far into its segment it is."""
    if cutter.position == (inode, offset):
        return
    if offset == 0:
        cutter.start_file(log, inode)
        return
    before = b"\n"  # a .gz is not read backwards: take the cursor for a line start
    if not log.compressed:
        with open_log(log) as f:
            f.seek(offset - 1)
            before = f.read(1)
            if before not in (b"\n", b"\r"):
                # One byte more than the limit: a segment of exactly ``limit`` bytes so
                # far is not cut yet, a longer one was (by the read that went past it).
                start = max(0, offset - cutter.limit - 1)
                f.seek(start)
                before = f.read(offset - start)
    cutter.resume(log, inode, offset, before)


def render(data: bytes, cuts: list[tuple[int, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Decode ``data`` (invalid bytes replaced) and turn each cut's byte index into a
    character index; cuts sit on character boundaries, so pieces decode like the whole."""
    if not cuts:
        return data.decode("utf-8", "replace"), []
    parts: list[str] = []
    wire = []
    chars = start = 0
    for at, line in cuts:
        part = data[start:at].decode("utf-8", "replace")
        parts.append(part)
        chars += len(part)
        start = at
        wire.append({"at": chars, "line": line})
    parts.append(data[start:].decode("utf-8", "replace"))
    return "".join(parts), wire
