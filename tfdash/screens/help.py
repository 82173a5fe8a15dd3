"""`?`: the keys of the screen you came from and the global ones, grouped as in
docs/keys.md and made from the same live bindings, with config.toml's remaps applied."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tfdash.screens.keytable import Section, bindings_of, key_names, sections
from tfdash.widgets.log_pattern import LogPatternPrompt
from tfdash.widgets.log_view import LogView
from tfdash.widgets.scalar_chart import ScalarChart
from tfdash.widgets.scalars_panel import ScalarsPanel

# Widgets mounted only now and then (a pattern prompt while typing, a chart once a tag has
# points): their keys show wherever the widget that brings them up is.
SHOWN_WITH: dict[type, type] = {LogPatternPrompt: LogView, ScalarChart: ScalarsPanel}


def sections_of(origin: Screen[object], app_class: type) -> list[Section]:
    """The sections whose keys work on ``origin``: its own, its widgets', the global."""

    def present(cls: type) -> bool:
        shown_with = SHOWN_WITH.get(cls, cls)
        return cls is app_class or isinstance(origin, cls) or bool(origin.query(shown_with))

    return [section for section in sections(app_class) if any(map(present, section[2]))]


def section_table(section: Section, keymap: Mapping[str, str]) -> Table:
    """One section as a two-column table: the keys, what they do."""
    title, where, classes = section
    table = Table(
        title=Text(f"{title}: {where}" if where else title, style="bold"),
        title_justify="left",
        show_header=False,
        box=None,
        padding=(0, 2, 0, 0),
        expand=True,
    )
    table.add_column("key", no_wrap=True, min_width=12)
    table.add_column("does", ratio=1)
    for cls in classes:
        for binding in bindings_of(cls, keymap):
            table.add_row(" / ".join(key_names(binding.key)), binding.description)
    return table


class HelpScreen(ModalScreen[None]):
    """The keys that work where `?` was pressed; Esc, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help-body {
        width: 90%; max-width: 100; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen .help-section { margin-bottom: 1; }
    """

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, origin: Screen[object], keymap: Mapping[str, str]) -> None:
        super().__init__()
        self.origin = origin
        self.keymap = dict(keymap)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "Keys — Esc, q or ? closes"
            body.border_subtitle = "ctrl+p: every action by name"
            for section in sections_of(self.origin, type(self.app)):
                yield Static(section_table(section, self.keymap), classes="help-section")
