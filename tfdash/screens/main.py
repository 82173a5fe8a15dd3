"""The dashboard: hosts, the jobs table of every host and the highlighted job's log,
scalars and GPUs, one tab each."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, TabbedContent, TabPane

from tfdash.config import LogSettings, ScalarSettings
from tfdash.errors import ConnectionFailed, HostKeyChanged, HostKeyUnknown
from tfdash.messages import LaunchRequested, RetryHostRequested
from tfdash.models import HostState, HostStatus, Job, JobSpec
from tfdash.screens.attach import attach_job
from tfdash.screens.doctor import DoctorScreen
from tfdash.screens.export import open_export
from tfdash.screens.host_actions import review_host_key
from tfdash.screens.job_actions import confirm_remove, confirm_stop
from tfdash.screens.job_detail import JobDetailScreen
from tfdash.screens.launch import LaunchScreen
from tfdash.screens.templates import TemplatesScreen
from tfdash.transport.manager import HostManager
from tfdash.transport.session import HostSession
from tfdash.widgets.gpu_panel import GpuPanel
from tfdash.widgets.host_list import HostList
from tfdash.widgets.job_table import JobTable
from tfdash.widgets.log_view import LogView
from tfdash.widgets.scalars_panel import ScalarsPanel
from tfdash.widgets.status_bar import StatusBar

# Actions that apply to the highlighted job.
_JOB_ACTIONS = {"open", "stop", "remove", "export", "attach"}
# Host states in which "retry now" helps: after a fix, or to skip the backoff wait.
_RETRYABLE_STATES = (HostState.FAILED, HostState.RECONNECTING)
# The tabs under the jobs table, by pane id: what each shows of the highlighted job.
TABS = ("tab-log", "tab-scalars", "tab-gpus")


class MainScreen(Screen[None]):
    """The App sets host statuses and job lists on it; it asks the App to act by messages."""

    AUTO_FOCUS = "#jobs"

    BINDINGS = [
        Binding("n", "launch", "Launch", id="launch"),
        # Priority: otherwise the focused table's own (hidden) Enter binding hides this one.
        Binding("enter", "open", "Open", id="open", priority=True),
        Binding("s", "stop", "Stop", id="stop"),
        Binding("e", "export", "Export", id="export"),
        Binding("a", "attach", "Attach", id="attach"),
        Binding("x,delete", "remove", "Remove", id="remove"),
        Binding("t", "trust", "Host key", id="host-key"),
        Binding("r", "retry", "Retry host", id="retry-host"),
        Binding("T", "templates", "Templates", id="templates"),
        Binding("D", "doctor", "Doctor", id="doctor"),
        Binding("1", "tab('tab-log')", "Log", id="tab-log"),
        Binding("2", "tab('tab-scalars')", "Scalars", id="tab-scalars"),
        Binding("3", "tab('tab-gpus')", "GPUs", id="tab-gpus"),
    ]

    def __init__(
        self,
        manager: HostManager,
        *,
        focus_job: str | None = None,
        log_settings: LogSettings | None = None,
        scalar_settings: ScalarSettings | None = None,
    ) -> None:
        super().__init__()
        self.manager = manager
        # Kept, not queried: the App's workers may report while the widgets are torn down.
        self.hosts = HostList([session.status for session in manager.sessions], id="hosts")
        self.jobs = JobTable(focus_job=focus_job, id="jobs")
        self.log_settings = log_settings or LogSettings()
        self.log_view = LogView(settings=self.log_settings, id="log")
        self.scalar_settings = scalar_settings or ScalarSettings()
        self.scalars = ScalarsPanel(
            smoothing=self.scalar_settings.smoothing,
            x_axis=self.scalar_settings.x_axis,
            log_y=self.scalar_settings.log_y,
            ignore_outliers=self.scalar_settings.ignore_outliers,
            id="scalars",
        )
        self.gpus = GpuPanel(id="gpus")
        # The highlighted job; hidden chart tabs do not follow it (they would cost streams).
        self._shown: tuple[HostSession | None, Job | None] = (None, None)
        self.status_bar = StatusBar(id="status")
        # Host → its latest job list: the templates screen's "last job" column, the
        # alerts list's job names, the App's metric poll.
        self.latest_jobs: dict[str, list[Job]] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="top"):
            yield self.hosts
            yield self.jobs
        with TabbedContent(id="detail", initial="tab-log"):
            with TabPane("Log", id="tab-log"):
                yield self.log_view
            with TabPane("Scalars", id="tab-scalars"):
                yield self.scalars
            with TabPane("GPUs", id="tab-gpus"):
                yield self.gpus
        yield self.status_bar
        yield Footer()

    def on_mount(self) -> None:
        # Statuses may have changed between construction and mount: show the current ones.
        for session in self.manager.sessions:
            self._show_status(session.status, session.failure)
        self.log_view.follow(None, None)
        self.scalars.show(None, None)
        self.gpus.show(None, None)

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
        self.latest_jobs[host] = jobs
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
        self._shown = (session, event.job)
        self._follow_in_active_tab()
        self.refresh_bindings()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        event.stop()
        # Charts want rows more than the jobs table does: it shrinks while they show.
        self.set_class(self.active_tab != "tab-log", "-charts")
        self._follow_in_active_tab()
        self.refresh_bindings()

    def action_tab(self, pane: str) -> None:
        """Show another tab of the highlighted job (Log, Scalars, GPUs); the Scalars tab
        takes the focus, so its keys work at once (tab or a click goes back to the jobs)."""
        if pane != self.active_tab and self.scalars.has_focus_within:
            # Else the focus moves to the next widget of the hidden tab, and TabbedContent
            # shows the tab that holds the focus again.
            self.jobs.focus()
        self.query_one("#detail", TabbedContent).active = pane
        if pane == "tab-scalars":
            self.scalars.query_one("#tag-list").focus()

    @property
    def active_tab(self) -> str:
        return self.query_one("#detail", TabbedContent).active

    def _follow_in_active_tab(self) -> None:
        """The log and the visible tab follow the highlighted job; hidden charts stop their
        streams (the log always follows: it is cheap, and keeps its place)."""
        session, job = self._shown
        active = self.active_tab
        self.log_view.follow(session, job)
        self.scalars.show(*((session, job) if active == "tab-scalars" else (None, None)))
        self.gpus.show(*((session, job) if active == "tab-gpus" else (None, None)))

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
        if action == "tab":
            return None if self.is_mounted and parameters == (self.active_tab,) else True
        if action not in _JOB_ACTIONS:
            return True
        if action == "open" and (self.log_view.has_focus or self.scalars.has_focus_within):
            return False  # enter belongs to the view there (a cut line in full, a tag's chart)
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

    def action_templates(self) -> None:
        """The templates of the project's tfdash.toml; enter there launches one."""
        self.app.push_screen(TemplatesScreen(self.manager, self.latest_jobs))

    def action_doctor(self) -> None:
        """Run the doctor's checks on the selected host, over its dashboard session."""
        self.app.push_screen(DoctorScreen(self.manager.get(self.selected_host)))

    def action_open(self) -> None:
        if (entry := self.highlighted) is not None:
            self._open(*entry)

    def action_stop(self) -> None:
        if (entry := self.highlighted) is not None:
            confirm_stop(self, *entry)

    def action_export(self) -> None:
        """Export the highlighted job's model (live, or from a checkpoint)."""
        if (entry := self.highlighted) is not None:
            open_export(self, self.manager.get(entry[0]), entry[1])

    def action_remove(self) -> None:
        if (entry := self.highlighted) is not None:
            confirm_remove(self, *entry)

    async def action_attach(self) -> None:
        """Attach the terminal to the highlighted job's tmux session, or follow its log."""
        if (entry := self.highlighted) is not None:
            await attach_job(self, self.manager.get(entry[0]), entry[1], self.log_settings)

    def _open(self, host: str, job: Job) -> None:
        self.app.push_screen(JobDetailScreen(host, job, self.manager.get(host), self.log_settings))
