"""Turning LogText lines into Strips: colours, highlights, timestamps, cut marks, wrapping.

Only the lines on screen are rendered, so a long scrollback costs nothing to show.
``RowIndex`` maps screen rows to (line, wrapped part) when lines wrap, updated as
lines arrive instead of measuring the whole scrollback on every refresh.
"""

from __future__ import annotations

import bisect
import re
import time
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from tfdash.services.log_text import LogLine, LogText

TIME_WIDTH = 9
"""Cells of the timestamp column: "HH:MM:SS "."""
# C0 controls other than tab and escape: zero-width junk in a terminal, trouble in a cell.
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1a\x1c-\x1f\x7f]")
_CACHE_SIZE = 2_000


def cut_marker(line_limit: int) -> str:
    """What follows a line the agent cut: how much was kept and how to see the rest."""
    size = f"{line_limit // 1024} KiB" if line_limit >= 1024 else f"{line_limit} bytes"
    return f" … ⟨line cut at {size} — enter shows it whole⟩"


@dataclass(frozen=True)
class RenderOptions:
    """How lines look; a new value invalidates every rendered line."""

    ansi: bool = True
    timestamps: bool = False
    highlight: re.Pattern[str] | None = None
    line_limit: int = 65_536


@dataclass(frozen=True)
class LineStyles:
    """The Rich styles of the parts of a line (from the widget's component classes)."""

    base: Style
    time: Style
    match: Style
    error: Style
    gap: Style
    cut: Style


def line_text(line: LogLine, options: RenderOptions, styles: LineStyles) -> Text:
    """The line's content (no timestamp) as Rich Text, with highlights and marks."""
    if options.ansi and "\x1b" in line.text:
        text = Text.from_ansi(_CONTROLS.sub("", line.text), no_wrap=True, end="")
    else:
        text = Text(_CONTROLS.sub("", line.plain), no_wrap=True, end="")
    if "\t" in text.plain:
        text.expand_tabs(8)
    if line.gap:
        text.stylize(styles.gap)
    elif line.error:
        text.stylize(styles.error)
    if options.highlight is not None:
        for match in options.highlight.finditer(text.plain):
            if match.end() > match.start():
                text.stylize(styles.match, match.start(), match.end())
    if line.cut is not None:
        text.append(cut_marker(options.line_limit), styles.cut)
    return text


def line_width(line: LogLine, options: RenderOptions) -> int:
    """Cells the line's content takes (what wrapping divides), without rendering it."""
    plain = line.plain
    width = cell_len(plain.expandtabs(8) if "\t" in plain else plain)
    return width + (cell_len(cut_marker(options.line_limit)) if line.cut is not None else 0)


def time_text(line: LogLine, styles: LineStyles) -> Text:
    """The dim "HH:MM:SS " of the time the agent read the line (blank if unknown)."""
    if line.time is None:
        return Text(" " * TIME_WIDTH, end="")
    stamp = time.strftime("%H:%M:%S ", time.localtime(line.time))
    return Text(stamp, style=styles.time, end="")


class StripCache:
    """Rendered strips of whole lines by seq; cleared when the options change."""

    def __init__(self) -> None:
        self._strips: dict[tuple[int, int], list[Strip]] = {}
        self.options = RenderOptions()

    def get(
        self, seq: int | None, line: LogLine, width: int, styles: LineStyles, console: Console
    ) -> list[Strip]:
        """The line as strips: one when ``width`` is 0 (no wrap), else one per row.

        ``seq`` None: the live line, which changes with every chunk and is not cached.
        """
        if seq is None:
            return render_line(line, self.options, styles, console, width)
        key = (seq, width)
        if (cached := self._strips.get(key)) is not None:
            return cached
        strips = render_line(line, self.options, styles, console, width)
        if len(self._strips) >= _CACHE_SIZE:
            self._strips.clear()
        self._strips[key] = strips
        return strips

    def reset(self, options: RenderOptions | None = None) -> None:
        self._strips.clear()
        if options is not None:
            self.options = options


def render_line(
    line: LogLine, options: RenderOptions, styles: LineStyles, console: Console, width: int
) -> list[Strip]:
    """One line as strips: the whole line (``width`` 0) or its rows wrapped at ``width``."""
    content = line_text(line, options, styles)
    stamp = time_text(line, styles) if options.timestamps else None
    if width <= 0:
        if stamp is not None:
            content = stamp + content
        return [Strip(content.render(console), content.cell_len)]
    room = max(1, width - (TIME_WIDTH if stamp is not None else 0))
    whole = Strip(content.render(console), content.cell_len)
    length = whole.cell_length
    parts = list(whole.divide([*range(room, length, room), length])) if length else [whole]
    if stamp is None:
        return parts
    blank = Strip.blank(TIME_WIDTH)
    first = Strip(stamp.render(console), TIME_WIDTH)
    return [Strip.join([first if i == 0 else blank, part]) for i, part in enumerate(parts)]


class RowIndex:
    """Screen rows of the shown lines when they wrap: row → (seq, part) and back."""

    def __init__(self) -> None:
        self._seqs: list[int] = []
        self._ends: list[int] = []  # rows up to and including each line, plus _base
        self._base = 0
        self._key: tuple[object, ...] = ()

    def sync(
        self, text: LogText, width: int, options: RenderOptions, key: tuple[object, ...]
    ) -> None:
        """Bring the index up to date: rebuilt when ``key`` changed or lines were
        prepended, else trimmed at the front and extended at the end."""
        held = len(text.matches) if text.filter is not None else len(text)
        first_shown = text.shown_seq(0) if held else None
        if key != self._key or (
            self._seqs and first_shown is not None and first_shown < self._seqs[0]
        ):
            self._seqs, self._ends, self._base, self._key = [], [], 0, key
        drop = bisect.bisect_left(self._seqs, text.first_seq)
        if drop:
            self._base = self._ends[drop - 1]
            del self._seqs[:drop], self._ends[:drop]
        total = self._ends[-1] if self._ends else self._base
        first_new = text.shown_index(self._seqs[-1]) + 1 if self._seqs else 0
        for index in range(first_new, held):
            seq = text.shown_seq(index)
            total += max(1, -(-line_width(text.line(seq), options) // max(1, width)))
            self._seqs.append(seq)
            self._ends.append(total)

    @property
    def rows(self) -> int:
        return (self._ends[-1] if self._ends else self._base) - self._base

    def locate(self, row: int) -> tuple[int, int] | None:
        """The (seq, part) shown at ``row``, None below the held lines."""
        at = bisect.bisect_right(self._ends, row + self._base)
        if at >= len(self._seqs):
            return None
        first_row = (self._ends[at - 1] if at else self._base) - self._base
        return self._seqs[at], row - first_row

    def row_of(self, seq: int) -> int:
        """The first row of line ``seq`` (or of the nearest held line before it)."""
        at = max(0, bisect.bisect_right(self._seqs, seq) - 1)
        return ((self._ends[at - 1] if at else self._base) - self._base) if self._seqs else 0
