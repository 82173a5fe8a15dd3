"""`a` Attach, shared by the dashboard and the job screen: hand the terminal to the job's
tmux session (the dashboard suspended, exactly as it was, until the person detaches), or
open its log full-screen when there is no session to attach to."""

from __future__ import annotations

from typing import Any

from textual.app import SuspendNotSupported
from textual.screen import Screen

from tfdash.config import LogSettings
from tfdash.errors import TfdashError
from tfdash.models import Job
from tfdash.screens.log_follow import LogFollowScreen
from tfdash.services.attach import (
    AttachKind,
    attach_command,
    attach_failure,
    attach_kind,
    run_attach,
)
from tfdash.transport.session import HostSession


async def attach_job(
    screen: Screen[Any], session: HostSession, job: Job, log_settings: LogSettings | None
) -> None:
    """Attach to ``job`` of ``session``'s host, or follow its log (see the module)."""
    app = screen.app
    if attach_kind(job) is AttachKind.LOG:
        app.push_screen(LogFollowScreen(session, job, log_settings))
        return
    try:
        command = await attach_command(session, job)
    except TfdashError as error:
        app.notify(error.message, title=error.title, severity="error")
        return
    try:
        # Blocking on purpose, as Textual documents suspend(): the terminal belongs to
        # tmux until it returns; the streams catch up from their cursors afterwards.
        with app.suspend():
            code = run_attach(command)
    except SuspendNotSupported:
        app.notify(
            "this terminal cannot be handed over to tmux; in a shell run: "
            f"tfdash attach {job.id} --host {session.name}",
            title="Cannot attach here",
            severity="error",
        )
        return
    except OSError as error:
        app.notify(f"`{command.describe()}` did not start: {error}", severity="error")
        return
    if code != 0:
        app.notify(attach_failure(command, code), title="Attach ended", severity="warning")
