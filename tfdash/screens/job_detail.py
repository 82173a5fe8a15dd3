"""One job in full: its fields, its SavedModel exports and a view that follows its log."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header

from tfdash.config import LogSettings
from tfdash.errors import ConnectionFailed
from tfdash.models import HostState, HostStatus, Job
from tfdash.screens.attach import attach_job
from tfdash.screens.export import open_export, show_export
from tfdash.screens.job_actions import confirm_remove, confirm_stop
from tfdash.services.exports import ExportsService
from tfdash.transport.session import HostSession
from tfdash.widgets.export_format import ExportsApi
from tfdash.widgets.export_list import ExportList
from tfdash.widgets.job_fields import JobFields
from tfdash.widgets.log_view import LogView


class JobDetailScreen(Screen[None]):
    """Shows `job` of `host`; the App keeps it current through ``show_jobs``."""

    AUTO_FOCUS = "#detail-log"

    BINDINGS = [
        Binding("escape", "back", "Back", id="job-detail.back"),
        Binding("s", "stop", "Stop", id="stop"),
        Binding("x,delete", "remove", "Remove", id="remove"),
        Binding("e", "export", "Export", id="export"),
        # The log, focused at first, reads "e" as "next error": ctrl+e exports from anywhere.
        Binding("ctrl+e", "export", "Export", id="export.anywhere", priority=True),
        # The log, focused at first, reads "a" as its ANSI toggle: ctrl+a attaches here.
        Binding("ctrl+a", "attach", "Attach", id="attach", priority=True),
    ]

    def __init__(
        self,
        host: str,
        job: Job,
        session: HostSession,
        log_settings: LogSettings | None = None,
        exports_service: ExportsApi | None = None,
    ) -> None:
        super().__init__()
        self.host = host
        self.job = job
        self.session = session
        self.exports_service = exports_service or ExportsService(session)
        # Kept, not queried: the App's workers may report while the widgets are torn down.
        self.fields = JobFields(job, id="detail-fields")
        self.fields.border_title = f"Job · {job.name}"
        self.exports = ExportList(job.id, self.exports_service, id="detail-exports")
        self.log_view = LogView(settings=log_settings, id="detail-log")

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.fields
        yield self.exports
        yield self.log_view
        yield Footer()

    def on_mount(self) -> None:
        self.log_view.follow(self.session, self.job)
        self.exports.mark_stale(self.session.status.state is not HostState.CONNECTED)

    def show_status(self, status: HostStatus, failure: ConnectionFailed | None = None) -> None:
        """A host's connection state changed: the log says when this job's host is away."""
        if self.is_mounted and status.name == self.host:
            self.log_view.show_host_status(status)
            self.exports.mark_stale(status.state is not HostState.CONNECTED)

    def show_jobs(self, host: str, jobs: list[Job]) -> None:
        """Take this job's latest fields from a poll of `host`; go back once it is gone."""
        if host != self.host:
            return
        for job in jobs:
            if job.id == self.job.id:
                if job != self.job:
                    self.job = job
                    self.fields.show(job)
                    self.refresh_bindings()
                return
        if self.is_current:
            self.dismiss()
        else:
            self.fields.border_subtitle = "removed from the host"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim stop for an ended job and remove for a running one."""
        if action == "stop":
            return True if self.job.state.is_active else None
        if action == "remove":
            return None if self.job.state.is_active else True
        return True

    def action_back(self) -> None:
        self.dismiss()

    def action_stop(self) -> None:
        confirm_stop(self, self.host, self.job)

    def action_remove(self) -> None:
        confirm_remove(self, self.host, self.job)

    async def action_attach(self) -> None:
        """Attach the terminal to the job's tmux session, or follow its log full-screen."""
        await attach_job(self, self.session, self.job, self.log_view.settings)

    def action_export(self) -> None:
        """Export the job's model (live or from a checkpoint): the dialog, then progress."""
        open_export(self, self.session, self.job, self.exports_service)

    def on_export_list_export_chosen(self, event: ExportList.ExportChosen) -> None:
        event.stop()
        show_export(self, self.session, self.job, event.info, self.exports_service)

    def on_screen_resume(self) -> None:
        # Back from the export screens: show a just-started export without waiting a poll.
        self.exports.refresh_exports()
