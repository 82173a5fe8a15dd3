"""The alerts list (``!``): every alert of every connected host, newest first.

``enter`` shows an alert's detail (a traceback) with the choice to open its job; ``esc``
goes back. Opening the list marks every alert read (the status bar's count goes to 0).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Static

from tfdash.errors import TfdashError
from tfdash.models import Alert, HostState, Job
from tfdash.services.alerts import AlertsService

# How each severity's kind is shown in the list.
_SEVERITY_STYLES = {"error": "bold red", "warning": "yellow", "info": ""}


class AlertDetailScreen(ModalScreen[bool]):
    """One alert in full; dismissed with True when the person asks to open its job."""

    BINDINGS = [
        Binding("escape", "close", "Back", id="alert-detail.back"),
        Binding("o", "open_job", "Open job", id="alert-detail.open-job"),
    ]

    def __init__(self, alert: Alert) -> None:
        super().__init__()
        self.alert = alert

    def compose(self) -> ComposeResult:
        alert = self.alert
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(alert.time))
        with VerticalScroll(id="alert-detail", classes="dialog") as box:
            box.border_title = f"Alert: {alert.kind}"
            yield Static(
                f"{when} · {alert.host} · job {alert.job} · {alert.kind} ({alert.severity})",
                markup=False,
            )
            yield Static(alert.message, markup=False, id="alert-message")
            if alert.detail:
                yield Static(alert.detail, markup=False, id="alert-text")
            with Horizontal():
                yield Button("Open job", id="open-job", variant="primary")
                yield Button("Back", id="back")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "open-job")

    def action_close(self) -> None:
        self.dismiss(False)

    def action_open_job(self) -> None:
        self.dismiss(True)


class AlertsScreen(Screen[None]):
    """A table of all alerts: time, host, job (its name while the host lists it), kind,
    message."""

    AUTO_FOCUS = "#alerts-table"
    BINDINGS = [Binding("escape", "back", "Back", id="alerts.back")]

    def __init__(
        self,
        services: dict[str, AlertsService],
        open_job: Callable[[str, str], None],
        jobs: Mapping[str, list[Job]] | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        self.open_job = open_job
        # (host, job id) → the job's name, from the dashboard's latest job lists.
        self.names = {
            (host, job.id): job.name for host, listed in (jobs or {}).items() for job in listed
        }
        self.alerts: list[Alert] = []
        self.table: DataTable[str | Text] = DataTable(id="alerts-table", cursor_type="row")
        self.table.border_title = "Alerts"

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.table
        yield Footer()

    def on_mount(self) -> None:
        self.table.add_columns("time", "host", "job", "kind", "message", "job id")
        self._load()

    @work(exclusive=True, group="alerts-list", exit_on_error=False)
    async def _load(self) -> None:
        found: list[Alert] = []
        for service in self.services.values():
            if service.session.status.state is not HostState.CONNECTED:
                continue
            try:
                found += await service.list_all()
            except TfdashError as error:
                self.notify(error.message, title=error.title, severity="error", markup=False)
        self.show_alerts(found)

    def show_alerts(self, alerts: list[Alert]) -> None:
        self.alerts = sorted(alerts, key=lambda a: (a.time, a.host, a.job, a.seq), reverse=True)
        self.table.clear()
        for index, alert in enumerate(self.alerts):
            when = time.strftime("%m-%d %H:%M:%S", time.localtime(alert.time))
            name = self.names.get((alert.host, alert.job), "")
            kind = Text(alert.kind, style=_SEVERITY_STYLES.get(alert.severity, ""))
            self.table.add_row(
                when, alert.host, name, kind, alert.message, alert.job, key=str(index)
            )
        self.table.border_subtitle = f"{len(self.alerts)} alerts" if self.alerts else "no alerts"

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is None:
            return
        alert = self.alerts[int(event.row_key.value)]

        def chosen(open_job: bool | None) -> None:
            if open_job:
                self.dismiss()
                self.open_job(alert.host, alert.job)

        self.app.push_screen(AlertDetailScreen(alert), chosen)

    def action_back(self) -> None:
        self.dismiss()
