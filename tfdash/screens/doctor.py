"""The doctor on one host of the dashboard: each check's row appears as it finishes.

It reuses the dashboard's session (no second SSH connection): the ssh and agent rows say
what that connection's state is, then the clock and the agent's own checks run.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from tfdash.services.doctor import DoctorCheck, session_doctor, summary
from tfdash.transport.session import HostSession
from tfdash.transport.ssh import SshTransport

COLUMNS = ("check", "result", "detail", "fix")
RESULTS = {True: "✔ pass", False: "✘ fail", None: "\u2013 n/a"}  # en dash


class DoctorScreen(Screen[None]):
    """Runs the checks on ``session``'s host on mount and on ``r``; esc goes back."""

    BINDINGS = [
        Binding("r", "rerun", "Run again", id="doctor.rerun"),
        Binding("escape", "app.pop_screen", "Back", id="doctor.back"),
    ]

    def __init__(self, session: HostSession) -> None:
        super().__init__()
        self.session = session
        self.checks: list[DoctorCheck] = []
        self.running = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Doctor: {self.session.name}", id="doctor-title", markup=False)
        table: DataTable[str] = DataTable(id="doctor-table", cursor_type="row")
        for column in COLUMNS:
            table.add_column(column.capitalize(), key=column)
        yield table
        yield Static("", id="doctor-summary", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.session.name
        self.action_rerun()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "rerun":
            return None if self.running else True
        return True

    def action_rerun(self) -> None:
        """Clear the rows and run every check again."""
        if self.running:
            return
        self.checks = []
        self.query_one("#doctor-table", DataTable).clear()
        self._run_checks()

    def _show_summary(self, text: str) -> None:
        self.query_one("#doctor-summary", Static).update(text)

    def _add_row(self, entry: DoctorCheck) -> None:
        self.checks.append(entry)
        table = self.query_one("#doctor-table", DataTable)
        cells = (entry.name, RESULTS[entry.ok], entry.detail, entry.fix or "")
        table.add_row(*cells, key=f"{len(self.checks)}-{entry.name}")

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.refresh_bindings()

    @work(exclusive=True, group="doctor", exit_on_error=False)
    async def _run_checks(self) -> None:
        self._set_running(True)
        self._show_summary("Running the checks… (TensorFlow's import can take a while)")
        over_ssh = isinstance(self.session.transport, SshTransport)
        try:
            async for entry in session_doctor(self.session, over_ssh=over_ssh):
                self._add_row(entry)
        finally:
            self._set_running(False)
        verdict = "all good" if not any(c.ok is False for c in self.checks) else "see the fixes"
        self._show_summary(f"{summary(self.checks)}: {verdict}. r runs them again.")
