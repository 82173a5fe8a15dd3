"""The dashboard: hosts, the jobs table and the highlighted job's log."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header

from tfdash.messages import LaunchRequested
from tfdash.models import HostStatus, Job, JobSpec
from tfdash.screens.job_actions import confirm_remove, confirm_stop
from tfdash.screens.job_detail import JobDetailScreen
from tfdash.screens.launch import LaunchScreen
from tfdash.transport.session import HostManager
from tfdash.widgets.host_list import HostList
from tfdash.widgets.job_table import JobTable
from tfdash.widgets.log_view import LogView
from tfdash.widgets.status_bar import StatusBar

# Actions that apply to the highlighted job.
_JOB_ACTIONS = {"open", "stop", "remove"}


class MainScreen(Screen[None]):
    """The App sets host statuses and job lists on it; it asks the App to act by messages."""

    AUTO_FOCUS = "#jobs"

    BINDINGS = [
        Binding("n", "launch", "Launch", id="launch"),
        # Priority: otherwise the focused table's own (hidden) Enter binding hides this one.
        Binding("enter", "open", "Open", id="open", priority=True),
        Binding("s", "stop", "Stop", id="stop"),
        Binding("x,delete", "remove", "Remove", id="remove"),
    ]

    def __init__(self, manager: HostManager, *, focus_job: str | None = None) -> None:
        super().__init__()
        self.manager = manager
        self._focus_job = focus_job

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="top"):
            yield HostList([session.status for session in self.manager.sessions], id="hosts")
            yield JobTable(focus_job=self._focus_job, id="jobs")
        yield LogView(id="log")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        # Statuses may have changed between construction and mount: show the current ones.
        for session in self.manager.sessions:
            self._show_status(session.status)
        self.query_one(LogView).follow(None, None)

    @property
    def highlighted(self) -> tuple[str, Job] | None:
        """The (host, job) under the table's cursor."""
        return self.query_one(JobTable).highlighted

    def show_status(self, status: HostStatus) -> None:
        """A host's connection state changed."""
        if self.is_mounted:  # before that, on_mount shows the statuses of that moment
            self._show_status(status)

    def _show_status(self, status: HostStatus) -> None:
        self.query_one(HostList).show_status(status)
        self.query_one(StatusBar).show_status(status)

    def show_jobs(self, host: str, jobs: list[Job]) -> None:
        """The latest job list of `host` (from the App's poll)."""
        if not self.is_mounted:
            return  # the next poll brings them again
        self.query_one(JobTable).show_jobs(host, jobs)
        self.query_one(StatusBar).show_jobs(host, jobs)
        self.refresh_bindings()

    def focus_job(self, job_id: str) -> None:
        """Highlight `job_id` (now, or as soon as it shows up), e.g. a job just launched."""
        self.query_one(JobTable).focus_job(job_id)

    def on_job_table_job_highlighted(self, event: JobTable.JobHighlighted) -> None:
        session = self.manager.get(event.host) if event.host is not None else None
        self.query_one(LogView).follow(session, event.job)
        self.refresh_bindings()

    def on_job_table_job_selected(self, event: JobTable.JobSelected) -> None:
        self._open(event.host, event.job)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim the job actions in the footer while they cannot apply."""
        if action not in _JOB_ACTIONS:
            return True
        entry = self.highlighted
        if entry is None:
            return None
        job = entry[1]
        if action == "stop":
            return True if job.state.is_active else None
        if action == "remove":
            return None if job.state.is_active else True
        return True

    def action_launch(self) -> None:
        entry = self.highlighted
        host = entry[0] if entry is not None else self.manager.sessions[0].name

        def submitted(spec: JobSpec | None) -> None:
            if spec is not None:
                self.post_message(LaunchRequested(host, spec))

        self.app.push_screen(LaunchScreen(host), callback=submitted)

    def action_open(self) -> None:
        if (entry := self.highlighted) is not None:
            self._open(*entry)

    def action_stop(self) -> None:
        if (entry := self.highlighted) is not None:
            confirm_stop(self, *entry)

    def action_remove(self) -> None:
        if (entry := self.highlighted) is not None:
            confirm_remove(self, *entry)

    def _open(self, host: str, job: Job) -> None:
        self.app.push_screen(JobDetailScreen(host, job, self.manager.get(host)))
