"""The one-line prompt for a log filter or search: a regex, checked as it is typed.

A modal docked at the bottom (the log stays visible above it). ``preview`` is called
with every valid pattern so a filter shows its effect while typed; an invalid one is
named under the input and never applied. Enter returns the pattern, Esc None.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class LogPatternPrompt(ModalScreen[str | None]):
    """Asks for a regular expression; dismisses with it (Enter) or None (Esc)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="log-pattern.cancel")]

    def __init__(
        self,
        title: str,
        initial: str = "",
        preview: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.initial = initial
        self.preview = preview

    def compose(self) -> ComposeResult:
        with Vertical(id="log-pattern"):
            yield Static(self.title_text, id="log-pattern-title")
            yield Input(self.initial, placeholder="a regular expression", id="log-pattern-input")
            yield Static("", id="log-pattern-error", classes="field-error", markup=False)

    def on_input_changed(self, event: Input.Changed) -> None:
        error = pattern_error(event.value)
        message = self.query_one("#log-pattern-error", Static)
        message.update(error or "")
        message.set_class(error is not None, "-shown")
        event.input.set_class(error is not None, "-invalid")
        if error is None and self.preview is not None:
            self.preview(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if pattern_error(event.value) is None:
            self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def pattern_error(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid regular expression (None when it is)."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    return None
