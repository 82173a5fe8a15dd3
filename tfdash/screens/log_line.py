"""One log line in full: a line the agent cut at line_limit, read again whole.

The line (up to 64 MiB) is fetched with ``read_line`` and shown wrapped in a LogLines
view, fed in pieces with pauses between them, so a 10 MB line renders only the rows
on screen and never freezes the UI. ``ctrl+s`` writes it to a new local file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header

from tfdash.config import LogSettings
from tfdash.errors import TfdashError
from tfdash.models import Job, LogCursor
from tfdash.services.logs import read_line
from tfdash.services.terminal_line import ESCAPE
from tfdash.transport.session import HostSession
from tfdash.widgets.log_lines import LogLines

PIECE_CHARS = 8_192
"""Characters per held piece of the line: each renders on its own, when on screen."""
PIECES_PER_BATCH = 64


class LogLineScreen(Screen[None]):
    """Shows the whole line that starts at ``line`` in ``job``'s log."""

    AUTO_FOCUS = "#line-view"
    BINDINGS = [
        Binding("escape", "back", "Back", id="log-line.back"),
        Binding("ctrl+s", "save", "Save line", id="log-line.save"),
    ]

    def __init__(self, session: HostSession, job: Job, line: LogCursor, shown: str) -> None:
        super().__init__()
        self.session = session
        self.job = job
        self.line = line
        self.whole: str | None = None
        settings = LogSettings(scrollback_lines=1 << 30, wrap=True, line_limit=0)
        self.view = LogLines(settings=settings, id="line-view")
        self.view.border_title = f"Whole line · {job.name}"
        self.view.text.feed(shown + "\n")
        self.view.border_subtitle = "reading the whole line…"

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.view
        yield Footer()

    def on_mount(self) -> None:
        self.view.following = False
        self.view.refresh_text()
        self._fetch()

    @work(exclusive=True, group="log-line", exit_on_error=False)
    async def _fetch(self) -> None:
        try:
            whole = await read_line(self.session, self.job.id, self.line)
        except TfdashError as error:
            self.view.border_subtitle = f"could not read it: {error.message}"
            return
        self.whole = whole
        plain = ESCAPE.sub("", whole) if "\x1b" in whole else whole
        self.view.text.clear()
        pieces = [plain[i : i + PIECE_CHARS] for i in range(0, len(plain), PIECE_CHARS)]
        for start in range(0, len(pieces), PIECES_PER_BATCH):
            batch = pieces[start : start + PIECES_PER_BATCH]
            self.view.text.feed("".join(piece + "\n" for piece in batch))
            self.view.refresh_text()
            await asyncio.sleep(0)  # let keys and repaints in between
        self.view.border_subtitle = f"{len(whole):,} characters · ctrl+s saves it"

    def action_back(self) -> None:
        self.dismiss()

    def action_save(self) -> None:
        if self.whole is None:
            self.notify("the line is still being read", timeout=2)
            return
        path = Path(f"{self.job.name}-{self.job.id}-line-{self.line.offset}.txt")
        try:
            with path.open("x", encoding="utf-8", errors="surrogateescape") as out:
                out.write(self.whole + "\n")
        except OSError as error:
            self.notify(f"cannot write {path}: {error.strerror or error}", severity="error")
            return
        self.notify(f"{path.resolve()}", title="Line saved", markup=False)
