"""LogLines: a scrolling view of a LogText that renders only the rows on screen.

It knows nothing of jobs or hosts (LogView feeds it). It follows the end while the
view is at the bottom, pauses when scrolled up, keeps a selected line, wraps,
shows timestamps, filters, highlights a search and jumps between error lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tfdash.config import LogSettings
from tfdash.services.log_text import LogText
from tfdash.widgets.log_render import (
    TIME_WIDTH,
    LineStyles,
    RenderOptions,
    RowIndex,
    StripCache,
    cut_marker,
)


class LogLines(ScrollView, can_focus=True):
    """Rows of a LogText; ``refresh_text()`` after changing the text shows the change."""

    COMPONENT_CLASSES = {
        "log-lines--time",
        "log-lines--match",
        "log-lines--error",
        "log-lines--gap",
        "log-lines--cut",
        "log-lines--cursor",
    }

    def __init__(
        self, *, settings: LogSettings, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.settings = settings
        self.text = LogText(settings.scrollback_lines)
        self.options = RenderOptions(
            ansi=settings.ansi == "render",
            timestamps=settings.timestamps,
            line_limit=settings.line_limit,
        )
        self.wrap = settings.wrap
        self.following = True
        self.new_lines = 0
        """Lines that arrived while following was paused."""
        self.cursor_seq: int | None = None
        """The selected line (None: none; following shows the end)."""
        self.search: re.Pattern[str] | None = None
        self._cache = StripCache()
        self._cache.reset(self.options)
        self._rows = RowIndex()
        self._adjusting = False  # scroll changes made by the view itself
        self._top: tuple[int, int] | None = None  # (seq, part) at the top row, kept in view

    # ---- rows ----------------------------------------------------------------------

    @property
    def _wrap_width(self) -> int:
        return max(1, self.scrollable_content_region.width) if self.wrap else 0

    def _sync_rows(self) -> None:
        if self.wrap:
            key = (self._wrap_width, self.options, self.text.filter)
            content = self._wrap_width - (TIME_WIDTH if self.options.timestamps else 0)
            self._rows.sync(self.text, max(1, content), self.options, key)

    def _row_count(self) -> int:
        if not self.wrap:
            return self.text.shown_count()
        live = self.text.live
        held = self._rows.rows
        if live is not None and self.text.shown_count() and self._live_shown():
            return held + len(self._strips(None, self._wrap_width))
        return held

    def _live_shown(self) -> bool:
        count = self.text.shown_count()
        return count > 0 and self.text.shown_seq(count - 1) == self.text.end_seq

    def _locate(self, row: int) -> tuple[int, int] | None:
        """The (seq, wrapped part) on ``row`` of the whole view, None past the end."""
        if row < 0:
            return None
        if not self.wrap:
            return (self.text.shown_seq(row), 0) if row < self.text.shown_count() else None
        found = self._rows.locate(row)
        if found is None and self._live_shown() and row >= self._rows.rows:
            return self.text.end_seq, row - self._rows.rows
        return found

    def _row_of(self, seq: int) -> int:
        if not self.wrap:
            return self.text.shown_index(seq)
        if seq >= self.text.end_seq:
            return self._rows.rows
        return self._rows.row_of(seq)

    def _strips(self, seq: int | None, width: int) -> list[Strip]:
        line = self.text.live if seq is None else self.text.line(seq)
        assert line is not None
        return self._cache.get(seq, line, width, self._styles(), self.app.console)

    def _styles(self) -> LineStyles:
        def style(name: str) -> Style:
            return self.get_component_rich_style(f"log-lines--{name}", partial=True)

        return LineStyles(
            base=self.rich_style,
            time=style("time"),
            match=style("match"),
            error=style("error"),
            gap=style("gap"),
            cut=style("cut"),
        )

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.reset()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        place = self._locate(scroll_y + y)
        if place is None:
            return Strip.blank(width, self.rich_style)
        seq, part = place
        key = None if seq == self.text.end_seq else seq
        strips = self._strips(key, self._wrap_width)
        strip = strips[part] if part < len(strips) else Strip.blank(width)
        left = 0 if self.wrap else scroll_x
        strip = strip.crop_extend(left, left + width, self.rich_style)
        if seq == self.cursor_seq:
            strip = strip.apply_style(self.get_component_rich_style("log-lines--cursor"))
        return strip.apply_offsets(scroll_x, scroll_y + y)

    # ---- following the end ----------------------------------------------------------

    def refresh_text(self, added: int = 0) -> None:
        """The text changed (``added`` lines at the end): resize, keep the view steady."""
        anchor = self._top
        self._sync_rows()
        if not self.following:
            self.new_lines += added
        timestamps = TIME_WIDTH if self.options.timestamps else 0
        marker = len(cut_marker(self.options.line_limit))
        width = 0 if self.wrap else self.text.max_width + timestamps + marker
        self.virtual_size = Size(width, self._row_count())
        if self.following:
            self._stick_to_end()
            # A scrollbar that appears in the next layout shortens the view: scroll again.
            self.call_after_refresh(self._stick_to_end)
        elif anchor is not None:
            self._scroll(y=self._row_of(anchor[0]) + anchor[1])
        self._top = self._locate(self.scroll_offset.y)
        self.refresh()

    def _stick_to_end(self) -> None:
        if self.following:
            self._scroll(y=self.max_scroll_y)
            self._top = self._locate(self.scroll_offset.y)

    def _scroll(self, *, y: float, x: float | None = None) -> None:
        self._adjusting = True
        try:
            self.scroll_to(x=x, y=y, animate=False, force=True)
        finally:
            self._adjusting = False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._top = self._locate(round(new_value))
        if self._adjusting:
            return
        at_end = new_value >= self.max_scroll_y
        if at_end and not self.following:
            self.resume_following()
        elif not at_end and self.following:
            self.pause_following()
        if new_value <= 0 < old_value:
            self.reached_top()

    def pause_following(self) -> None:
        self.following = False
        self.new_lines = 0
        self.following_changed()

    def resume_following(self) -> None:
        self.following = True
        self.new_lines = 0
        self.following_changed()
        self._scroll(y=self.max_scroll_y)

    def following_changed(self) -> None:
        """Following was paused or resumed (LogView says so in its subtitle)."""

    def reached_top(self) -> None:
        """The view shows the first held line (LogView pages earlier lines in)."""

    # ---- the selected line ----------------------------------------------------------

    def select(self, seq: int | None) -> None:
        """Select line ``seq`` and scroll it into view (following pauses)."""
        self.cursor_seq = seq
        if seq is not None:
            if self.following:
                self.pause_following()
            row = self._row_of(seq)
            self.scroll_to_region(Region(0, row, 1, 1), animate=False, force=True, immediate=True)
        self.refresh()

    def move_cursor(self, lines: int) -> None:
        count = self.text.shown_count()
        if not count:
            return
        if self.cursor_seq is None:  # the first press selects the bottom line in view
            bottom = self._locate(self.scroll_offset.y + self.scrollable_content_region.height - 1)
            index = self.text.shown_index(bottom[0]) if bottom else count - 1
        else:
            index = self.text.shown_index(self.cursor_seq) + lines
        index = max(0, min(count - 1, index))
        self.select(self.text.shown_seq(index))
        if index == 0:
            self.reached_top()

    def on_click(self, event: events.Click) -> None:
        place = self._locate(self.scroll_offset.y + event.y)
        if place is not None:
            self.select(place[0])

    def jump(self, find: Callable[[int | None], int | None], what: str) -> None:
        """Select the line ``find(cursor)`` names, or say there is none."""
        seq = find(self.cursor_seq)
        if seq is None:
            self.notify(f"no {what}", timeout=2)
        else:
            self.select(seq)

    def apply_options(self, options: RenderOptions, *, wrap: bool | None = None) -> None:
        """New render options (or wrap): rendered lines are redone, the view stays put."""
        self.options = options
        if wrap is not None:
            self.wrap = wrap
        self._cache.reset(options)
        self.refresh_text()
