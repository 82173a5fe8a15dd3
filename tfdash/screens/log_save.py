"""Saving a job's whole log to a local file: asks for the path, shows progress, can cancel.

The log is streamed from the agent (``save_log``), not copied from the view, so the
file holds everything still on the host. An existing file is never overwritten
without a second, explicit press of the button that then says "Overwrite".
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, ProgressBar, Static

from tfdash.errors import TfdashError
from tfdash.models import Job
from tfdash.services.logs import LogFileExists, save_log
from tfdash.transport.session import HostSession


def default_save_path(job: Job) -> str:
    """``./<job name>-<job id>.log`` in the directory tfdash runs in."""
    return f"./{job.name}-{job.id}.log"


def describe_size(size: int) -> str:
    """A byte count as a person reads it: 912 B, 14.2 KiB, 3.1 MiB, 2.0 GiB."""
    amount = float(size)
    for unit in ("B", "KiB", "MiB"):
        if amount < 1024:
            return f"{size} B" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GiB"


class LogSaveScreen(ModalScreen[Path | None]):
    """Dismisses with the saved file's path, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="log-save.cancel")]

    def __init__(self, session: HostSession, job: Job) -> None:
        super().__init__()
        self.session = session
        self.job = job
        self.overwrite = False

    def compose(self) -> ComposeResult:
        with Vertical(id="log-save-dialog", classes="dialog") as dialog:
            dialog.border_title = f"Save the log of {self.job.name}"
            yield Input(default_save_path(self.job), id="log-save-path")
            yield ProgressBar(id="log-save-progress", show_eta=False)
            yield Static("", id="log-save-error", classes="field-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="log-save-start")
                yield Button("Cancel", id="log-save-cancel")

    def on_input_changed(self) -> None:
        self._show_error(None)
        self.overwrite = False
        self.query_one("#log-save-start", Button).label = "Save"

    def on_input_submitted(self) -> None:
        self._start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "log-save-start":
            self._start()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        """Stop a running save (its partial file is removed) and close."""
        self.workers.cancel_group(self, "log-save")
        self.dismiss(None)

    def _start(self) -> None:
        path = Path(self.query_one("#log-save-path", Input).value.strip()).expanduser()
        if not path.name:
            self._show_error("name a file to save to")
            return
        self.query_one("#log-save-start", Button).disabled = True
        self._save(path, self.overwrite)

    @work(exclusive=True, group="log-save", exit_on_error=False)
    async def _save(self, path: Path, overwrite: bool) -> None:
        bar = self.query_one("#log-save-progress", ProgressBar)

        def progress(done: int, total: int | None) -> None:
            bar.update(total=max(total or 0, done) or None, progress=done)

        try:
            result = await save_log(
                self.session, self.job.id, path, progress=progress, overwrite=overwrite
            )
        except LogFileExists as error:
            self.overwrite = True
            self.query_one("#log-save-start", Button).label = "Overwrite"
            self._show_error(f"{error.message}: press Overwrite to replace it")
        except TfdashError as error:
            self._show_error(error.message)
        else:
            gaps = f" ({len(result.gaps)} gaps: lines were missing)" if result.gaps else ""
            self.app.notify(
                f"{result.path} ({describe_size(result.bytes_written)}){gaps}",
                title="Log saved",
                markup=False,
            )
            self.dismiss(result.path)
            return
        self.query_one("#log-save-start", Button).disabled = False

    def _show_error(self, message: str | None) -> None:
        error = self.query_one("#log-save-error", Static)
        error.update(message or "")
        error.set_class(message is not None, "-shown")
