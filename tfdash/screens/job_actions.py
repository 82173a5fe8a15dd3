"""Stop and remove with confirmation, shared by the dashboard and the job detail screen.

The screen asks; once the person confirms, it posts a message that the App turns into
an RPC in a worker (screens never talk to the agent themselves).
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

from remote_agent import protocol
from tfdash.messages import RemoveRequested, StopRequested
from tfdash.models import Job
from tfdash.screens.confirm import ConfirmScreen

# Seconds between SIGTERM and SIGKILL when the dashboard stops a job.
STOP_GRACE_S = protocol.DEFAULT_STOP_GRACE_S


def confirm_stop(screen: Screen[Any], host: str, job: Job) -> None:
    """Ask whether to stop `job`; post StopRequested on yes."""
    if not job.state.is_active:
        screen.notify(
            f"{job.name} has already ended ({job.state.value}).", title="Stop job", markup=False
        )
        return

    def answered(yes: bool | None) -> None:
        if yes:
            screen.post_message(StopRequested(host, job))

    question = (
        f"Stop job {job.name} ({job.id}) on {host}?\n\n"
        f"It gets SIGTERM now and SIGKILL if it still runs {STOP_GRACE_S:g} s later."
    )
    screen.app.push_screen(
        ConfirmScreen(question, title="Stop job", yes_label="Stop"), callback=answered
    )


def confirm_remove(screen: Screen[Any], host: str, job: Job) -> None:
    """Ask whether to remove the ended `job` and its files; post RemoveRequested on yes."""
    if job.state.is_active:
        screen.notify(
            f"{job.name} is still {job.state.value}: stop it first.",
            title="Remove job",
            severity="warning",
            markup=False,
        )
        return

    def answered(yes: bool | None) -> None:
        if yes:
            screen.post_message(RemoveRequested(host, job))

    question = (
        f"Remove job {job.name} ({job.id}) on {host}?\n\n"
        "Its directory, log files included, is deleted."
    )
    screen.app.push_screen(
        ConfirmScreen(question, title="Remove job", yes_label="Remove"), callback=answered
    )
