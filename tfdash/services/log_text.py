"""The terminal model of a log: lines as a terminal would show them, bounded, indexed.

Pure Python (no Textual, no Rich), so the log view, tests and benchmarks share it.
Progress bars redraw a line with ``\\r`` and ``\\b``; a log file keeps every redraw.
``LogText`` replays them per line (``TerminalLine``), keeps the unterminated *live*
line apart so it can update in place, and maintains the filter and error indexes as
lines arrive. Lines have absolute sequence numbers (``seq``) that stay valid while
old lines are dropped from the front or earlier ones are prepended.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from tfdash.models import LogCursor
from tfdash.services.terminal_line import ESCAPE, SGR, TerminalLine, carry_style

GAP_MARK = "⋯"
ERROR_PATTERN = re.compile(
    r"Traceback \(most recent call last\)|\bERROR\b|(?i:\bnan\b)"
    r"|out of memory|OOM|ResourceExhaustedError|Killed"
)
"""What makes a line an error line: Python tracebacks, ERROR, nan losses, OOM, kills."""
_ERROR_WORDS = ("Traceback", "ERROR", "out of memory", "OOM", "ResourceExhaustedError", "Killed")


def may_hold_error(text: str) -> bool:
    """False when no line of ``text`` can be an error line (a cheap test before the regex)."""
    return any(word in text for word in _ERROR_WORDS) or "nan" in text.lower()


_SPECIAL = re.compile(r"[\r\x08\x1b]")


class CutLike(Protocol):
    """A `LogCut`: where in a chunk's text a too-long segment was cut."""

    @property
    def at(self) -> int: ...

    @property
    def line(self) -> LogCursor: ...


class LogLine:
    """One line as shown: text with ANSI escapes, its plain text, time and flags."""

    __slots__ = ("_plain", "cut", "error", "gap", "shown_chars", "text", "time")

    def __init__(self, text: str, time: float | None, plain: str | None = None) -> None:
        self.text = text
        self.time = time
        self._plain = plain
        self.gap = False
        self.error = False
        self.cut: LogCursor | None = None
        self.shown_chars = 0

    @property
    def plain(self) -> str:
        """The text without escape sequences (what filters and searches look at)."""
        if self._plain is None:
            self._plain = ESCAPE.sub("", self.text) if "\x1b" in self.text else self.text
        return self._plain

    def mark_cut(self, cursor: LogCursor) -> None:
        self.cut = cursor
        self.shown_chars = len(self.plain)


class LogText:
    """The scrollback of one log: at most ``max_lines`` lines plus the live line."""

    def __init__(self, max_lines: int = 100_000) -> None:
        if max_lines < 1:
            raise ValueError("a log keeps at least one line")
        self.max_lines = max_lines
        self.filter: re.Pattern[str] | None = None
        self._reset()

    def _reset(self) -> None:
        self.lines: list[LogLine] = []
        self.first_seq = 0
        """The seq of ``lines[0]``; the live line's seq is ``end_seq``."""
        self.dropped = 0
        """How many old lines were pushed out to stay within max_lines."""
        self.live: LogLine | None = None
        self.max_width = 0
        self.errors: list[int] = []
        self.matches: list[int] = []
        self._terminal = TerminalLine()
        self._style = ""  # SGR state carried from one line to the next, as a terminal does

    @property
    def end_seq(self) -> int:
        return self.first_seq + len(self.lines)

    def __len__(self) -> int:
        return len(self.lines)

    def line(self, seq: int) -> LogLine:
        """The line ``seq`` (``end_seq`` is the live line)."""
        if seq == self.end_seq and self.live is not None:
            return self.live
        if not self.first_seq <= seq < self.end_seq:
            raise IndexError(f"line {seq} is not held (held: {self.first_seq}..{self.end_seq})")
        return self.lines[seq - self.first_seq]

    def clear(self) -> None:
        """Forget every line (a different log is shown next); the filter stays.

        Numbering goes on after the last line: a seq is never reused, so what a view
        cached by seq (rendered rows, wrap index) can never be shown for another line.
        """
        next_seq = self.end_seq + 1
        self._reset()
        self.first_seq = next_seq
        self.set_filter(self.filter.pattern if self.filter is not None else None)

    # ---- adding text ---------------------------------------------------------------

    def feed(self, text: str, time: float | None = None, cuts: Sequence[CutLike] = ()) -> int:
        """Add a chunk of output (it may end mid-line); return how many lines it completed."""
        pieces = text.split("\n")
        tail = pieces.pop()
        terminal = self._terminal
        continued = self.live if terminal.active else None
        special = _SPECIAL.search(text) is not None
        new: list[LogLine]
        if not special and not terminal.active and not self._style:
            new = [LogLine(piece, time, piece) for piece in pieces]  # the common, fast case
        else:
            new = [self._complete(piece, time) for piece in pieces]
        if new and continued is not None and continued.cut is not None:
            new[0].cut, new[0].shown_chars = continued.cut, continued.shown_chars
        if tail:
            terminal.feed(tail if terminal.active else self._style + tail)
            self.live = self._live_line(time, None if new else continued)
        elif new:
            self.live = None
        for cut in cuts:
            self._mark_cut(text, cut, new)
        self._add(new, None if special else text, check_first=continued is not None)
        return len(new)

    def feed_gap(self, reason: str, time: float | None = None) -> None:
        """Say that output is missing here; an unfinished live line ends before it."""
        new: list[LogLine] = []
        if self._terminal.active:
            new.append(self._complete("", time))
            self.live = None
        gap = LogLine(f"{GAP_MARK} {reason} {GAP_MARK}", time)
        gap.gap = True
        new.append(gap)
        self._add(new, None)

    def prepend(
        self, page_text: str, time: float | None = None, cuts: Sequence[CutLike] = ()
    ) -> int:
        """Put earlier whole lines above the first; return how many were added.

        Only what fits under ``max_lines`` is added, the lines nearest the present first:
        paging in never pushes out the newest lines.
        """
        room = self.max_lines - len(self.lines)
        pieces = page_text.split("\n")
        if pieces and pieces[-1] == "":
            pieces.pop()
        if room <= 0 or not pieces:
            return 0
        page = [_collapse(piece, time) for piece in pieces]
        for cut in cuts:
            _mark_in(page, page_text.count("\n", 0, cut.at), cut.line)
        page = page[-room:]
        for line in page:
            line.error = may_hold_error(line.plain) and bool(ERROR_PATTERN.search(line.plain))
            self.max_width = max(self.max_width, len(line.plain))
        self.first_seq -= len(page)
        self.lines[0:0] = page
        first = self.first_seq
        self.errors[0:0] = [first + i for i, line in enumerate(page) if line.error]
        if self.filter is not None:
            pattern = self.filter
            self.matches[0:0] = [
                first + i for i, line in enumerate(page) if pattern.search(line.plain)
            ]
        return len(page)

    def _complete(self, piece: str, time: float | None) -> LogLine:
        """A whole line: replayed by the terminal if it redraws, else taken as it is."""
        terminal = self._terminal
        if terminal.active or "\r" in piece or "\x08" in piece:
            terminal.feed(piece if terminal.active else self._style + piece)
            text, plain, self._style = terminal.finish()
            return LogLine(text, time, plain)
        line = LogLine(self._style + piece, time)
        if "\x1b" in piece:
            self._style = carry_style(self._style, SGR.findall(piece))
        return line

    def _live_line(self, time: float | None, previous: LogLine | None) -> LogLine | None:
        """The open line as shown now (None while it shows nothing); keeps its cut mark."""
        text, plain = self._terminal.render()
        if not plain:
            return None
        live = LogLine(text, time, plain)
        if previous is not None and previous.cut is not None:
            live.cut, live.shown_chars = previous.cut, previous.shown_chars
        return live

    def _mark_cut(self, text: str, cut: CutLike, new: list[LogLine]) -> None:
        index = text.count("\n", 0, cut.at)
        if index < len(new):
            new[index].mark_cut(cut.line)
        elif self.live is not None:
            self.live.mark_cut(cut.line)

    def _add(self, new: list[LogLine], plain_chunk: str | None, check_first: bool = False) -> None:
        """Append completed lines, index them, drop the oldest beyond max_lines.

        ``plain_chunk``: the chunk they came from when it holds no escapes or redraws;
        one search of it tells whether any of its lines is an error line at all.
        """
        if not new:
            return
        start = self.end_seq
        self.lines.extend(new)
        widest = max(len(line.plain) for line in new)
        self.max_width = max(self.max_width, widest)
        if plain_chunk is None or may_hold_error(plain_chunk):
            candidates = range(len(new))
        else:  # the first line may have begun in an earlier chunk
            candidates = range(1 if check_first else 0)
        for i in candidates:
            plain = new[i].plain
            if may_hold_error(plain) and ERROR_PATTERN.search(plain):
                new[i].error = True
                self.errors.append(start + i)
        if self.filter is not None:
            search = self.filter.search
            self.matches.extend(start + i for i, line in enumerate(new) if search(line.plain))
        self._trim()

    def _trim(self) -> None:
        overflow = len(self.lines) - self.max_lines
        if overflow <= 0:
            return
        del self.lines[:overflow]
        self.first_seq += overflow
        self.dropped += overflow
        for index in (self.errors, self.matches):
            del index[: bisect.bisect_left(index, self.first_seq)]

    # ---- filter, search, errors ----------------------------------------------------

    def set_filter(self, pattern: str | None) -> None:
        """Show only lines whose plain text matches ``pattern`` (None: all lines).

        Raises ``re.error`` for an invalid pattern, leaving the filter as it was.
        """
        compiled = re.compile(pattern) if pattern else None
        self.filter = compiled
        if compiled is None:
            self.matches = []
            return
        first = self.first_seq
        self.matches = [
            first + i for i, line in enumerate(self.lines) if compiled.search(line.plain)
        ]

    def shown_count(self) -> int:
        """How many lines the view shows (filtered or all, plus a non-empty live line)."""
        base = len(self.matches) if self.filter is not None else len(self.lines)
        return base + (1 if self._live_shown() else 0)

    def shown_seq(self, index: int) -> int:
        """The seq of the ``index``-th shown line."""
        held = len(self.matches) if self.filter is not None else len(self.lines)
        if index >= held:
            return self.end_seq
        return self.matches[index] if self.filter is not None else self.first_seq + index

    def shown_index(self, seq: int) -> int:
        """Where line ``seq`` is among the shown lines (the nearest shown one before it)."""
        if seq >= self.end_seq:
            return max(0, self.shown_count() - 1)
        if self.filter is None:
            return max(0, seq - self.first_seq)
        return max(0, bisect.bisect_right(self.matches, seq) - 1)

    def _live_shown(self) -> bool:
        live = self.live
        if live is None:
            return False
        return self.filter is None or bool(self.filter.search(live.plain))

    def search(self, pattern: re.Pattern[str], start: int, *, backward: bool = False) -> int | None:
        """The seq of the first shown line after (or before) ``start`` that matches."""
        seqs: Iterable[int]
        if self.filter is not None and backward:
            seqs = reversed(self.matches[: bisect.bisect_left(self.matches, start)])
        elif self.filter is not None:
            seqs = self.matches[bisect.bisect_right(self.matches, start) :]
        elif backward:
            seqs = range(min(start, self.end_seq) - 1, self.first_seq - 1, -1)
        else:
            seqs = range(max(start + 1, self.first_seq), self.end_seq)
        return next((seq for seq in seqs if pattern.search(self.line(seq).plain)), None)

    def next_error(self, after: int | None) -> int | None:
        """The first error line after ``after`` (None: the first error line held)."""
        at = 0 if after is None else bisect.bisect_right(self.errors, after)
        return self.errors[at] if at < len(self.errors) else None

    def previous_error(self, before: int | None) -> int | None:
        """The last error line before ``before`` (None: the last error line held)."""
        at = len(self.errors) if before is None else bisect.bisect_left(self.errors, before)
        return self.errors[at - 1] if at > 0 else None


def _collapse(piece: str, time: float | None) -> LogLine:
    """One whole line on its own (a page of earlier lines has no live line)."""
    if not _SPECIAL.search(piece):
        return LogLine(piece, time, piece)
    terminal = TerminalLine()
    terminal.feed(piece)
    text, plain, _ = terminal.finish()
    return LogLine(text, time, plain)


def _mark_in(lines: list[LogLine], index: int, cursor: LogCursor) -> None:
    if 0 <= index < len(lines):
        lines[index].mark_cut(cursor)
