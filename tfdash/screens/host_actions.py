"""What the dashboard does for a host that needs a person: say why, trust a key, retry.

Screens ask (a modal, a key binding) and post a message; the App runs the file and
network work of ``trust_host_key`` and ``connect_again`` in its workers.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual.app import App
from textual.screen import Screen

from tfdash.errors import ConnectionFailed, HostKeyUnknown
from tfdash.messages import TrustHostKeyRequested
from tfdash.models import HostStatus
from tfdash.screens.host_key import HostKeyScreen, RefusedKey
from tfdash.transport.session import HostSession

# A host that failed needs a person: its notification stays up longer than the default.
FAILURE_NOTICE_S = 20.0


def review_host_key(screen: Screen[Any], host: str, refused: RefusedKey) -> None:
    """Show `host`'s refused key; post TrustHostKeyRequested if the person trusts it."""

    def answered(trust: bool | None) -> None:
        if trust and isinstance(refused, HostKeyUnknown):
            screen.post_message(TrustHostKeyRequested(host, refused))

    screen.app.push_screen(HostKeyScreen(refused), callback=answered)


def announce_failure(app: App[Any], status: HostStatus, failure: ConnectionFailed | None) -> None:
    """Say why a host failed, and what the person can do about it here."""
    text = f"{status.name}: {status.message}"
    if isinstance(failure, HostKeyUnknown):
        text += f". Select {status.name} in the hosts pane and press t to review the key."
    title = failure.title if failure is not None else ConnectionFailed.title
    app.notify(text, title=title, severity="error", timeout=FAILURE_NOTICE_S, markup=False)


async def trust_host_key(app: App[Any], session: HostSession, refused: HostKeyUnknown) -> None:
    """Add the key the person trusted to known_hosts, then connect again."""
    from tfdash.transport.hostkeys import record_host_key  # asyncssh: SSH hosts only

    path = refused.known_hosts_file
    try:
        await asyncio.to_thread(record_host_key, path, refused.known_hosts_line)
    except OSError as error:
        message = f"Could not add the key of {session.name} to {path}: {error}"
        app.notify(message, title="Host key", severity="error", markup=False)
        return
    app.notify(
        f"{refused.key_type} {refused.fingerprint} added to {path}",
        title=f"Trusted {session.name}",
        markup=False,
    )
    await connect_again(app, session)


async def connect_again(app: App[Any], session: HostSession) -> None:
    """Retry `session` now; a new failure shows up as its status (and is announced)."""
    try:
        await session.retry_now()
    except ConnectionFailed as error:
        app.log.info(f"{session.name} did not connect again: {error}")
