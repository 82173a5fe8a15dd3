"""Building the dashboard over SSH hosts as `tfdash` does, and reading its screens."""

from __future__ import annotations

from typing import Any

import pytest
from support.ssh_client import ClientSide, remote_home
from support.sshd import SshServer
from textual.widgets import Static

from tfdash.app import TfdashApp, make_app
from tfdash.config import load_config
from tfdash.screens.ssh_prompts import DashboardHooks
from tfdash.transport.hosts import build_manager
from tfdash.transport.ssh_hooks import SshHooks
from tfdash.widgets.host_list import HostList

UploadCall = tuple[str, int, int]


def host_entry(name: str, server: SshServer, port: int | None = None, **extra: str) -> str:
    """A [hosts.NAME] table that logs in to `server` (through `port`, e.g. a proxy's)."""
    values = {
        "host": "127.0.0.1",
        "user": server.user,
        "identity": str(server.client_key),
        "tfdash_home": str(remote_home(server)),
    } | extra
    lines = [f"[hosts.{name}]", f"port = {port or server.port}"]
    lines += [f'{key} = "{value}"' for key, value in values.items()]
    return "\n".join(lines) + "\n\n"


def dashboard(
    client: ClientSide, entries: list[str], uploads: list[UploadCall] | None = None
) -> TfdashApp:
    """The app over local + the hosts of `entries`, wired like `tfdash` does it.

    With `uploads`, every upload_progress call of the transport is recorded there too.
    """
    client.write_tfdash_config("".join(entries))
    hooks = DashboardHooks()
    ssh = hooks.ssh
    if uploads is not None:

        def record(host: str, sent: int, total: int) -> None:
            uploads.append((host, sent, total))
            hooks.upload_progress(host, sent, total)

        ssh = SshHooks(passphrase=hooks.passphrase, upload_progress=record)
    local_home = client.home / "local-tfdash-home"
    manager = build_manager(load_config(), local_home=local_home, hooks=ssh)
    return make_app(manager, hooks=hooks)


def record_notifications(app: TfdashApp, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = []
    real_notify = app.notify

    def recording_notify(message: str, **options: Any) -> None:
        shown.append({"message": message, **options})
        real_notify(message, **options)

    monkeypatch.setattr(app, "notify", recording_notify)
    return shown


def screen_text(app: TfdashApp) -> str:
    """Every Static on the current screen, joined: what a person can read there."""
    return "\n".join(str(static.render()) for static in app.screen.query(Static))


async def select_host(app: TfdashApp, pilot: Any, host: str) -> None:
    """Select `host` with the keyboard: focus the hosts pane, move down to its row."""
    hosts = app.main_screen.query_one(HostList)
    hosts.focus()
    await pilot.pause()
    while hosts.selected != host:
        await pilot.press("down")
    assert app.main_screen.selected_host == host
