"""LogBrowser: the keys of the log view that look at what is held.

Filter (``/``, live as typed), find (``ctrl+f``, then ``n``/``N``), error lines
(``e``/``E``), wrap, timestamps and ANSI toggles, the selected line (arrows, page keys,
home, a click) and copying it (``y``). Nothing here reads from a host.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from textual.binding import Binding

from tfdash.widgets.log_lines import LogLines
from tfdash.widgets.log_pattern import LogPatternPrompt

_Step = Callable[[int | None], int | None]


class LogBrowser(LogLines):
    """A LogLines with the keys to filter, search, jump, toggle, select and copy."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="log.filter"),
        Binding("ctrl+f", "find", "Find", id="log.find"),
        Binding("n", "next_match", "Next", id="log.next-match"),
        Binding("N", "previous_match", "Previous", id="log.previous-match"),
        Binding("e", "next_error", "Next error", id="log.next-error"),
        Binding("E", "previous_error", "Previous error", id="log.previous-error"),
        Binding("w", "toggle_wrap", "Wrap", id="log.wrap"),
        Binding("t", "toggle_timestamps", "Times", id="log.timestamps"),
        Binding("a", "toggle_ansi", "ANSI", id="log.ansi"),
        Binding("y", "copy_line", "Copy line", id="log.copy"),
        Binding("escape", "clear_patterns", "Clear", id="log.clear"),
        Binding("up", "cursor(-1)", "Up", show=False, id="log.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="log.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="log.page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="log.page-down"),
        Binding("home", "first_line", "First line", show=False, id="log.first-line"),
    ]

    def _show_title(self) -> None:
        """Show the filter and the search in the title (LogView adds the job)."""

    def action_cursor(self, lines: int) -> None:
        self.move_cursor(lines)

    def action_page(self, pages: int) -> None:
        self.move_cursor(pages * max(1, self.scrollable_content_region.height - 1))

    def action_first_line(self) -> None:
        if self.text.shown_count():
            self.select(self.text.shown_seq(0))
            self.reached_top()

    def action_filter(self) -> None:
        before = self.text.filter.pattern if self.text.filter is not None else None

        def preview(pattern: str) -> None:
            self.set_filter(pattern or None)

        def done(pattern: str | None) -> None:
            if pattern is None:  # cancelled: the filter from before the preview
                self.set_filter(before)
            else:
                self.set_filter(pattern or None)

        prompt = LogPatternPrompt("Filter: show only lines matching", before or "", preview)
        self.app.push_screen(prompt, callback=done)

    def set_filter(self, pattern: str | None) -> None:
        """Show only the lines matching ``pattern`` (a valid regex; None: all lines)."""
        self.text.set_filter(pattern)
        self.apply_options(replace(self.options, highlight=self._highlight()))
        self._show_title()

    def action_find(self) -> None:
        def done(pattern: str | None) -> None:
            if pattern:
                self.set_search(pattern)
                self.action_next_match()

        initial = self.search.pattern if self.search is not None else ""
        self.app.push_screen(LogPatternPrompt("Find (n next, N previous)", initial), done)

    def set_search(self, pattern: str | None) -> None:
        """Highlight ``pattern`` (a valid regex) and make n/N jump between its matches."""
        self.search = re.compile(pattern) if pattern else None
        self.apply_options(replace(self.options, highlight=self._highlight()))
        self._show_title()

    def _highlight(self) -> re.Pattern[str] | None:
        return self.search or self.text.filter

    def action_next_match(self) -> None:
        self._jump_match(backward=False)

    def action_previous_match(self) -> None:
        self._jump_match(backward=True)

    def _jump_match(self, *, backward: bool) -> None:
        pattern = self._highlight()
        if pattern is None:
            self.notify("nothing to find: ctrl+f searches, / filters", timeout=3)
            return
        start = self.cursor_seq
        if start is None:
            start = self.text.end_seq + 1 if backward else self.text.first_seq - 1
        found = self.text.search(pattern, start, backward=backward)
        self.jump(lambda _: found, f"more matches of {pattern.pattern}")

    def action_next_error(self) -> None:
        self.jump(self._shown_error(self.text.next_error), "error lines after this one")

    def action_previous_error(self) -> None:
        self.jump(self._shown_error(self.text.previous_error), "error lines before this one")

    def _shown_error(self, step: _Step) -> _Step:
        """``step`` over error lines, skipping those the filter hides."""

        def find(start: int | None) -> int | None:
            seq = step(start)
            while seq is not None and self.text.filter is not None and not self._is_shown(seq):
                seq = step(seq)
            return seq

        return find

    def _is_shown(self, seq: int) -> bool:
        return self.text.shown_seq(self.text.shown_index(seq)) == seq

    def action_clear_patterns(self) -> None:
        self.search = None
        self.set_filter(None)

    def action_toggle_wrap(self) -> None:
        self.apply_options(self.options, wrap=not self.wrap)

    def action_toggle_timestamps(self) -> None:
        self.apply_options(replace(self.options, timestamps=not self.options.timestamps))

    def action_toggle_ansi(self) -> None:
        self.apply_options(replace(self.options, ansi=not self.options.ansi))

    def _selected_or_last(self) -> int | None:
        if self.cursor_seq is not None:
            return self.cursor_seq
        count = self.text.shown_count()
        return self.text.shown_seq(count - 1) if count else None

    def action_copy_line(self) -> None:
        seq = self._selected_or_last()
        if seq is not None:
            self.app.copy_to_clipboard(self.text.line(seq).plain)
            self.notify("the selected line is on the clipboard", title="Copied", timeout=2)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc, n and N only act with a pattern set; else the screen gets them (n: Launch)."""
        if action in ("clear_patterns", "next_match", "previous_match"):
            return self.search is not None or self.text.filter is not None
        return True
