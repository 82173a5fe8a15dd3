"""The dashboard: hosts, the jobs table of every host and the highlighted job's log."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header

from tfdash.config import LogSettings
from tfdash.errors import ConnectionFailed, HostKeyChanged, HostKeyUnknown
from tfdash.messages import LaunchRequested, RetryHostRequested
from tfdash.models import HostState, HostStatus, Job, JobSpec
from tfdash.screens.host_actions import review_host_key
from tfdash.screens.job_actions import confirm_remove, confirm_stop
from tfdash.screens.job_detail import JobDetailScreen
from tfdash.screens.launch import LaunchScreen
from tfdash.transport.manager import HostManager
from tfdash.widgets.host_list import HostList
from tfdash.widgets.job_table import JobTable
from tfdash.widgets.log_view import LogView
from tfdash.widgets.status_bar import StatusBar

# Actions that apply to the highlighted job.
_JOB_ACTIONS = {"open", "stop", "remove"}
# Host states in which "retry now" helps: after a fix, or to skip the backoff wait.
_RETRYABLE_STATES = (HostState.FAILED, HostState.RECONNECTING)


class MainScreen(Screen[None]):
    """The App sets host statuses and job lists on it; it asks the App to act by messages."""

    AUTO_FOCUS = "#jobs"

    BINDINGS = [
        Binding("n", "launch", "Launch", id="launch"),
        # Priority: otherwise the focused table's own (hidden) Enter binding hides this one.
        Binding("enter", "open", "Open", id="open", priority=True),
        Binding("s", "stop", "Stop", id="stop"),
        Binding("x,delete", "remove", "Remove", id="remove"),
        Binding("t", "trust", "Host key", id="host-key"),
        Binding("r", "retry", "Retry host", id="retry-host"),
    ]

    def __init__(
        self,
        manager: HostManager,
        *,
        focus_job: str | None = None,
        log_settings: LogSettings | None = None,
    ) -> None:
        super().__init__()
        self.manager = manager
        # Kept, not queried: the App's workers may report while the widgets are torn down.
        self.hosts = HostList([session.status for session in manager.sessions], id="hosts")
        self.jobs = JobTable(focus_job=focus_job, id="jobs")
        self.log_settings = log_settings or LogSettings()
        self.log_view = LogView(settings=self.log_settings, id="log")
        self.status_bar = StatusBar(id="status")

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="top"):
            yield self.hosts
            yield self.jobs
        yield self.log_view
        yield self.status_bar
        yield Footer()

    def on_mount(self) -> None:
        # Statuses may have changed between construction and mount: show the current ones.
        for session in self.manager.sessions:
            self._show_status(session.status, session.failure)
        self.log_view.follow(None, None)

    @property
    def highlighted(self) -> tuple[str, Job] | None:
        """The (host, job) under the table's cursor."""
        return self.jobs.highlighted

    @property
    def selected_host(self) -> str:
        """The host selected in the hosts pane: launches go there, host actions apply to it."""
        return self.hosts.selected or self.manager.sessions[0].name

    def show_status(self, status: HostStatus, failure: ConnectionFailed | None = None) -> None:
        """A host's connection state changed."""
        if self.is_mounted:  # before that, on_mount shows the statuses of that moment
            self._show_status(status, failure)

    def _show_status(self, status: HostStatus, failure: ConnectionFailed | None) -> None:
        self.hosts.show_status(status, failure)
        self.status_bar.show_status(status)
        self.jobs.mark_stale(status.name, status.state is not HostState.CONNECTED)
        self.log_view.show_host_status(status)
        if status.name == self.selected_host:
            self.refresh_bindings()

    def show_upload(self, host: str, sent: int, total: int) -> None:
        """The agent upload to `host` progressed."""
        if self.is_mounted:
            self.hosts.show_upload(host, sent, total)

    def show_jobs(self, host: str, jobs: list[Job]) -> None:
        """The latest job list of `host` (from the App's poll)."""
        if not self.is_mounted:
            return  # the next poll brings them again
        self.jobs.show_jobs(host, jobs)
        self.status_bar.show_jobs(host, jobs)
        self.refresh_bindings()

    def focus_job(self, job_id: str) -> None:
        """Highlight `job_id` (now, or as soon as it shows up), e.g. a job just launched."""
        self.jobs.focus_job(job_id)

    def on_job_table_job_highlighted(self, event: JobTable.JobHighlighted) -> None:
        session = self.manager.get(event.host) if event.host is not None else None
        self.log_view.follow(session, event.job)
        self.refresh_bindings()

    def on_job_table_job_selected(self, event: JobTable.JobSelected) -> None:
        self._open(event.host, event.job)

    def on_host_list_host_selected(self, event: HostList.HostSelected) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim the job and host actions in the footer while they cannot apply."""
        if action == "trust":
            return True if self.refused_key(self.selected_host) is not None else None
        if action == "retry":
            state = self.manager.get(self.selected_host).status.state
            return True if state in _RETRYABLE_STATES else None
        if action not in _JOB_ACTIONS:
            return True
        if action == "open" and self.focused is self.log_view:
            return False  # enter belongs to the log view there (a cut line in full)
        entry = self.highlighted
        if entry is None:
            return None
        job = entry[1]
        if action == "stop":
            return True if job.state.is_active else None
        if action == "remove":
            return None if job.state.is_active else True
        return True

    def refused_key(self, host: str) -> HostKeyUnknown | HostKeyChanged | None:
        """The unknown or changed key that made `host` fail, if that is why it failed."""
        failure = self.manager.get(host).failure
        return failure if isinstance(failure, HostKeyUnknown | HostKeyChanged) else None

    def review_host_key(self, host: str) -> None:
        """Show `host`'s refused key: trust it if unknown, the warning if changed."""
        if (refused := self.refused_key(host)) is not None:
            review_host_key(self, host, refused)

    def select_host(self, host: str) -> None:
        """Select `host` in the hosts pane (launches go there)."""
        self.hosts.select(host)

    def action_trust(self) -> None:
        self.review_host_key(self.selected_host)

    def action_retry(self) -> None:
        self.post_message(RetryHostRequested(self.selected_host))

    def action_launch(self) -> None:
        host = self.selected_host

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
        self.app.push_screen(JobDetailScreen(host, job, self.manager.get(host), self.log_settings))
