"""Launching a template whose job still runs: ask how, then stop-and-launch in an App worker.

Like an IDE's "Stop and rerun", the default is to stop the running job (SIGTERM, SIGKILL
after the grace time), wait for it to end, and launch the template again; "Launch
alongside" keeps it and starts a second job of the same name.
"""

from __future__ import annotations

from enum import Enum

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tfdash.errors import TfdashError
from tfdash.messages import LaunchRequested
from tfdash.models import Job, JobSpec
from tfdash.screens.job_actions import STOP_GRACE_S
from tfdash.services.jobs import JobsService
from tfdash.transport.session import HostSession


class Relaunch(Enum):
    """How to launch a template whose job is still active."""

    STOP_FIRST = "stop-first"
    ALONGSIDE = "alongside"


class RelaunchScreen(ModalScreen[Relaunch | None]):
    """Asks whether to stop the running job before launching again (the default),
    launch a second one alongside, or cancel."""

    BINDINGS = [
        Binding("s", "answer('stop-first')", "Stop and relaunch", id="relaunch.stop-first"),
        Binding("a", "answer('alongside')", "Launch alongside", id="relaunch.alongside"),
        Binding("escape,n", "answer('')", "Cancel", id="relaunch.cancel"),
    ]

    def __init__(self, host: str, running: Job) -> None:
        super().__init__()
        self.host = host
        self.running = running

    def compose(self) -> ComposeResult:
        job = self.running
        question = (
            f"{job.name} ({job.id}) is {job.state.value} on {self.host}.\n\n"
            f"Stop it (SIGTERM, SIGKILL after {STOP_GRACE_S:g} s) and launch it again, "
            "or launch another one alongside?"
        )
        with Vertical(id="relaunch-dialog", classes="dialog") as dialog:
            dialog.border_title = "Relaunch template"
            yield Static(question, id="relaunch-question", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Stop and relaunch", id="relaunch-stop-first", variant="warning")
                yield Button("Launch alongside", id="relaunch-alongside")
                yield Button("Cancel", id="relaunch-cancel")

    def on_mount(self) -> None:
        self.query_one("#relaunch-stop-first", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_answer((event.button.id or "").removeprefix("relaunch-"))

    def action_answer(self, choice: str) -> None:
        known = {member.value: member for member in Relaunch}
        self.dismiss(known.get(choice))


def stop_then_launch(app: App[object], session: HostSession, running: Job, spec: JobSpec) -> None:
    """Stop ``running``, wait for it to end, then ask the App to launch ``spec``.

    An App worker: it outlives the templates screen, which closes at once.
    """

    async def relaunch() -> None:
        service = JobsService(session)
        try:
            await service.stop(running.id, grace_s=STOP_GRACE_S)
            await service.wait(running.id, timeout=STOP_GRACE_S + 10)
        except TfdashError as error:
            app.notify(
                f"{running.name} ({running.id}) did not stop, so it was not launched again: "
                f"{error.message}",
                title="Relaunch",
                severity="error",
                markup=False,
            )
            return
        app.post_message(LaunchRequested(session.name, spec))

    app.run_worker(relaunch(), group="job-actions", exit_on_error=False)
