"""A job's log on the whole terminal: what `a` opens for a job there is no tmux session to
attach to (nohup mode, or ended). The log view keeps all its keys; esc or q go back."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header

from tfdash.config import LogSettings
from tfdash.errors import ConnectionFailed
from tfdash.models import HostStatus, Job
from tfdash.transport.session import HostSession
from tfdash.widgets.log_view import LogView


class LogFollowScreen(Screen[None]):
    """Follows ``job``'s log full-screen; the App keeps its host's status current."""

    AUTO_FOCUS = "#follow-log"
    BINDINGS = [
        # esc reaches the screen when the log has no search or filter to clear.
        Binding("escape,q", "back", "Back", id="log-follow.back"),
    ]

    def __init__(
        self, session: HostSession, job: Job, log_settings: LogSettings | None = None
    ) -> None:
        super().__init__()
        self.host = session.name
        self.session = session
        self.job = job
        self.log_view = LogView(settings=log_settings, id="follow-log")

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.log_view
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"{self.job.name} · {self.host}"
        self.log_view.follow(self.session, self.job)

    def show_status(self, status: HostStatus, failure: ConnectionFailed | None = None) -> None:
        """A host's connection state changed: the log says when this job's host is away."""
        if self.is_mounted and status.name == self.host:
            self.log_view.show_host_status(status)

    def show_jobs(self, host: str, jobs: list[Job]) -> None:
        """Take this job's latest state from a poll of `host` (the log ends with the job)."""
        if host != self.host:
            return
        for job in jobs:
            if job.id == self.job.id:
                self.job = job
                self.log_view.follow(self.session, job)
                return

    def action_back(self) -> None:
        self.dismiss()
