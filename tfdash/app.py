"""TfdashApp: wiring, global bindings and the workers that own sessions and polls.

Every host has its own poll worker, so a slow or dead host never holds up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from tfdash.commands import HostCommands, JobCommands
from tfdash.config import AlertSettings, LogSettings, ScalarSettings
from tfdash.config_ui import KeySettings, UiSettings
from tfdash.errors import ConnectionFailed, HostKeyUnknown, RequestTimeout, TfdashError
from tfdash.job_workers import JobWorkers
from tfdash.messages import (
    HostStatusChanged,
    RetryHostRequested,
    TrustHostKeyRequested,
    UploadProgress,
)
from tfdash.models import HostState, HostStatus, Job
from tfdash.palette import BindingCommands
from tfdash.screens.alert_inbox import AlertInbox
from tfdash.screens.alerts import AlertsScreen
from tfdash.screens.help import HelpScreen
from tfdash.screens.host_actions import announce_failure, connect_again, trust_host_key
from tfdash.screens.job_detail import JobDetailScreen
from tfdash.screens.log_follow import LogFollowScreen
from tfdash.screens.looks import Looks, prepare_looks
from tfdash.screens.main import MainScreen
from tfdash.screens.ssh_prompts import DashboardHooks
from tfdash.services.job_metrics import INTERVAL_S as METRIC_INTERVAL_S
from tfdash.services.job_metrics import JobMetrics
from tfdash.services.jobs import JobsService
from tfdash.transport.manager import HostManager

# Seconds between two `jobs.list` polls of a connected host.
POLL_INTERVAL_S = 1.0


class TfdashApp(JobWorkers):
    """The dashboard. Sessions start in a worker on mount and close on unmount."""

    CSS_PATH = "tfdash.tcss"
    TITLE = "tfdash"
    COMMANDS = App.COMMANDS | {JobCommands, HostCommands, BindingCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Keys", id="help"),
        Binding("exclamation_mark", "alerts", "Alerts", id="alerts"),
    ]
    # Classes every screen gets by terminal size (tfdash.tcss, "Breakpoints").
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-medium"), (160, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (40, "-tall")]

    def __init__(
        self,
        manager: HostManager,
        *,
        focus_job: str | None = None,
        log_settings: LogSettings | None = None,
        scalar_settings: ScalarSettings | None = None,
        looks: Looks | None = None,
        alert_settings: AlertSettings | None = None,
    ) -> None:
        super().__init__()
        self.alert_settings = alert_settings or AlertSettings()
        self.alert_inbox = AlertInbox(
            manager.sessions, self.alert_settings, self._show_unread_alerts
        )
        self.looks = looks
        self.manager = manager
        self.log_settings = log_settings or LogSettings()
        self.scalar_settings = scalar_settings or ScalarSettings()
        self.focus_job = focus_job
        self.jobs_services = {session.name: JobsService(session) for session in manager.sessions}
        self._poll_wake: dict[str, asyncio.Event] = {}
        self._host_states: dict[str, HostState] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._main: MainScreen | None = None

    @property
    def main_screen(self) -> MainScreen:
        """The dashboard screen (the bottom of the screen stack)."""
        if self._main is None:
            self._main = MainScreen(
                self.manager,
                focus_job=self.focus_job,
                log_settings=self.log_settings,
                scalar_settings=self.scalar_settings,
            )
        return self._main

    def get_default_screen(self) -> Screen[None]:
        return self.main_screen

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        # JobCommands offers "Quit" with the note that jobs keep running.
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command

    def on_mount(self) -> None:
        self._unsubscribe = self.manager.subscribe_status(self._session_status_changed)
        for session in self.manager.sessions:
            self._poll_wake[session.name] = asyncio.Event()
        self._start_sessions()
        for session in self.manager.sessions:
            self._poll_jobs(session.name)
            self._poll_metrics(session.name)
        if self.looks is not None:
            self.looks.install(self)
            self.call_after_refresh(self.looks.restore, self.main_screen, self.focus_job is None)

    def action_help(self) -> None:
        """The keys of the screen on top (as remapped by config.toml's [keys])."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen, self.looks.keymap if self.looks else {}))

    def on_exit_app(self) -> None:
        """Remember the view while its widgets are still there to be read."""
        if self.looks is not None:
            self.looks.save(self)

    async def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self.manager.close_all()

    def _session_status_changed(self, status: HostStatus) -> None:
        self.post_message(HostStatusChanged(status, self.manager.get(status.name).failure))

    def _dashboard_screens(self) -> Iterator[MainScreen | JobDetailScreen | LogFollowScreen]:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen | JobDetailScreen | LogFollowScreen):
                yield screen

    def on_host_status_changed(self, message: HostStatusChanged) -> None:
        status = message.status
        for screen in self._dashboard_screens():
            screen.show_status(status, message.failure)
        previous = self._host_states.get(status.name)
        self._host_states[status.name] = status.state
        if status.state is HostState.CONNECTED and previous is not HostState.CONNECTED:
            self._wake_poll(status.name)
        if status.state is HostState.FAILED and previous is not HostState.FAILED:
            announce_failure(self, status, message.failure)

    def on_upload_progress(self, message: UploadProgress) -> None:
        self.main_screen.show_upload(message.host, message.sent, message.total)

    def _focus_job(self, job_id: str) -> None:
        self.main_screen.focus_job(job_id)

    def _wake_poll(self, host: str) -> None:
        if (wake := self._poll_wake.get(host)) is not None:
            wake.set()

    @work(group="sessions", exit_on_error=False)
    async def _start_sessions(self) -> None:
        try:
            await self.manager.start_all()
        except ConnectionFailed as error:  # the FAILED status was announced already
            self.log.info(f"a host did not start: {error}")
        except TfdashError as error:
            self.notify_error(error)

    def on_trust_host_key_requested(self, message: TrustHostKeyRequested) -> None:
        self._trust_host_key(message.host, message.refused)

    def on_retry_host_requested(self, message: RetryHostRequested) -> None:
        self._retry_host(message.host)

    @work(group="host-actions", exit_on_error=False)
    async def _trust_host_key(self, host: str, refused: HostKeyUnknown) -> None:
        await trust_host_key(self, self.manager.get(host), refused)

    @work(group="host-actions", exit_on_error=False)
    async def _retry_host(self, host: str) -> None:
        await connect_again(self, self.manager.get(host))

    @work(group="poll", exit_on_error=False)
    async def _poll_jobs(self, host: str) -> None:
        """List the host's jobs about once a second while it is connected."""
        session = self.manager.get(host)
        wake = self._poll_wake[host]
        last_error = ""
        while True:
            wake.clear()
            if session.status.state is HostState.CONNECTED:
                try:
                    jobs = await self.jobs_services[host].list()
                except (ConnectionFailed, RequestTimeout) as error:
                    # The hosts pane shows the connection state; the next poll retries.
                    self.log.warning(f"polling {host}: {error}")
                except TfdashError as error:
                    if error.message != last_error:
                        self.notify_error(error)
                    last_error = error.message
                else:
                    last_error = ""
                    self._deliver_jobs(host, jobs)
                    await self._deliver_alerts(host, jobs)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), POLL_INTERVAL_S)

    @work(group="poll", exit_on_error=False)
    async def _poll_metrics(self, host: str) -> None:
        """Every few seconds, the latest value of each job's tracked scalar (the jobs table)."""
        session = self.manager.get(host)
        metrics = JobMetrics(session, self.scalar_settings.table_tag)
        while metrics.unavailable is None:
            jobs = self.main_screen.latest_jobs.get(host)
            if jobs is not None and session.status.state is HostState.CONNECTED:
                for job_id, value in (await metrics.refresh(jobs)).items():
                    self.main_screen.jobs.show_metric(host, job_id, value)
            await asyncio.sleep(METRIC_INTERVAL_S)

    async def _deliver_alerts(self, host: str, jobs: list[Job]) -> None:
        """New alerts of the host as notifications (docs/alerts.md); a failure waits for
        the next poll."""
        try:
            await self.alert_inbox.deliver(self, host, jobs)
        except (ConnectionFailed, RequestTimeout) as error:
            self.log.warning(f"alerts of {host}: {error}")

    def action_alerts(self) -> None:
        """The alerts of every host, newest first; opening it marks them read."""
        if not isinstance(self.screen, AlertsScreen):
            self.alert_inbox.mark_read()
            self.push_screen(
                AlertsScreen(
                    self.alert_inbox.services, self._open_alert_job, self.main_screen.latest_jobs
                )
            )

    def _show_unread_alerts(self, count: int) -> None:
        self.main_screen.status_bar.show_unread_alerts(count)

    def _open_alert_job(self, host: str, job_id: str) -> None:
        self.main_screen.focus_job(job_id)

    def _deliver_jobs(self, host: str, jobs: list[Job]) -> None:
        # The dashboard screen keeps the latest lists (its latest_jobs) for everyone.
        for screen in self._dashboard_screens():
            screen.show_jobs(host, jobs)


def make_app(
    manager: HostManager,
    *,
    focus_job: str | None = None,
    hooks: DashboardHooks | None = None,
    log_settings: LogSettings | None = None,
    scalar_settings: ScalarSettings | None = None,
    keys: KeySettings | None = None,
    ui: UiSettings | None = None,
    state_path: Path | None = None,
    alert_settings: AlertSettings | None = None,
) -> TfdashApp:
    """The one factory of the dashboard, used by the CLI and the tests.

    ``hooks`` are the DashboardHooks the manager's SSH hosts were built with: bound here,
    they ask for key passphrases and show agent uploads in this dashboard.
    ``log_settings`` and ``scalar_settings`` are config.toml's ``[logs]`` and ``[scalars]``
    (default: their defaults); ``keys`` and ``ui`` its ``[keys]`` and ``[ui]`` (a bad
    one raises ConfigError). ``state_path``: where the view is remembered (None: not).
    """
    looks, scalar_settings = prepare_looks(
        TfdashApp,
        keys or KeySettings(),
        ui or UiSettings(),
        scalar_settings or ScalarSettings(),
        state_path,
    )
    app = TfdashApp(
        manager,
        focus_job=focus_job,
        log_settings=log_settings,
        scalar_settings=scalar_settings,
        looks=looks,
        alert_settings=alert_settings,
    )
    if hooks is not None:
        hooks.bind(app)
    return app
