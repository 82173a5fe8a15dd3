"""Host keys and key passphrases in the dashboard, against real sshd's on loopback."""

from __future__ import annotations

from pathlib import Path

import asyncssh
import pytest
from support.ssh_client import ClientSide, ServerFactory, known_line, ssh_keygen_fingerprint
from support.sshd import SshServer, keygen
from textual.widgets import Button
from ui.dashboard_queries import SIZE, WaitFor, host_state_text, wait_connected
from ui.ssh_dashboard import (
    dashboard,
    host_entry,
    record_notifications,
    screen_text,
    select_host,
)

from tfdash.app import TfdashApp
from tfdash.screens.host_key import HostKeyScreen
from tfdash.screens.main import MainScreen
from tfdash.screens.passphrase import PassphraseScreen

PASSPHRASE = "correct horse battery staple"


async def test_an_unknown_host_key_is_shown_and_trusted_from_the_dashboard(
    client: ClientSide,
    start_sshd: ServerFactory,
    wait_for: WaitFor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = start_sshd()
    app = dashboard(client, [host_entry("box", server)])
    notes = record_notifications(app, monkeypatch)
    fingerprint = ssh_keygen_fingerprint(server.root / "host_ed25519.pub")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: host_state_text(app, "box") == "failed: unknown host key",
            "the refused key",
        )
        assert fingerprint in host_state_text(app, "box", part=".host-details")
        note = next(note for note in notes if note.get("title") == "Unknown host key")
        assert fingerprint in note["message"] and "press t" in note["message"]
        assert app.main_screen.check_action("trust", ()) is None  # "local" is selected

        await select_host(app, pilot, "box")
        await pilot.press("t")
        assert isinstance(app.screen, HostKeyScreen)
        shown = screen_text(app)
        for expected in (fingerprint, "ssh-ed25519", f"[127.0.0.1]:{server.port}"):
            assert expected in shown
        assert str(client.known_hosts) in shown
        await pilot.press("escape")  # cancel: nothing written, still failed
        assert isinstance(app.screen, MainScreen)
        assert not client.known_hosts.exists()
        assert host_state_text(app, "box") == "failed: unknown host key"

        await pilot.press("ctrl+p")
        await pilot.press(*"trust the host key of box")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostKeyScreen), "the trust prompt")
        await pilot.click("#host-key-trust")
        await wait_connected(pilot, wait_for, "box")
        assert client.known_hosts.read_text() == known_line(server, server.port)


async def test_a_changed_host_key_is_refused_loudly_with_no_way_to_trust_it(
    client: ClientSide, start_sshd: ServerFactory, wait_for: WaitFor
) -> None:
    server = start_sshd()
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().split()
    client.known_hosts.write_text(f"[127.0.0.1]:{server.port} {other[0]} {other[1]}\n")
    before = client.known_hosts.read_text()
    app = dashboard(client, [host_entry("box", server)])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: host_state_text(app, "box") == "failed: HOST KEY CHANGED",
            "the changed key",
        )
        await select_host(app, pilot, "box")
        await pilot.press("t")
        assert isinstance(app.screen, HostKeyScreen)
        assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in screen_text(app)
        assert ssh_keygen_fingerprint(server.root / "host_ed25519.pub") in screen_text(app)
        buttons = [button.id for button in app.screen.query(Button)]
        assert buttons == ["host-key-cancel"]
        await pilot.press("enter")  # on Close
        assert isinstance(app.screen, MainScreen)
    assert client.known_hosts.read_text() == before


def prompt_ready(app: TfdashApp, asking: str) -> bool:
    """Whether a passphrase prompt saying `asking` waits for keys in its focused field."""
    screen = app.screen
    return (
        isinstance(screen, PassphraseScreen)
        and screen.focused is not None
        and screen.focused.id == "passphrase-input"
        and asking in screen.prompt
    )


def encrypted_key(server: SshServer, directory: Path) -> Path:
    """A passphrase-protected key (with its .pub beside it) that `server` accepts."""
    key = keygen(directory / "locked_ed25519", passphrase=PASSPHRASE)
    with server.authorized_keys.open("a") as authorized:
        authorized.write(Path(f"{key}.pub").read_text())
    return key


async def test_an_encrypted_key_is_unlocked_through_the_passphrase_modal(
    client: ClientSide, start_sshd: ServerFactory, wait_for: WaitFor, tmp_path: Path
) -> None:
    server = start_sshd()
    client.trust(server)
    key = encrypted_key(server, tmp_path)
    app = dashboard(client, [host_entry("box", server, identity=str(key))])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: prompt_ready(app, "Enter passphrase"), "the prompt")
        assert f"Enter passphrase for key '{key}'" in screen_text(app)
        await pilot.press(*"not it", "enter")
        await wait_for(pilot, lambda: prompt_ready(app, "Bad passphrase"), "a second prompt")
        assert f"Bad passphrase, try again for key '{key}'" in screen_text(app)
        await pilot.press(*PASSPHRASE, "enter")
        await wait_connected(pilot, wait_for, "box")


async def test_a_declined_passphrase_ends_in_an_auth_failure_that_says_why(
    client: ClientSide, start_sshd: ServerFactory, wait_for: WaitFor, tmp_path: Path
) -> None:
    server = start_sshd()
    client.trust(server)
    key = encrypted_key(server, tmp_path)
    app = dashboard(client, [host_entry("box", server, identity=str(key))])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: prompt_ready(app, "Enter passphrase"), "the prompt")
        await pilot.press("escape")
        await wait_for(
            pilot,
            lambda: host_state_text(app, "box") == "failed: authentication failed",
            "the auth failure",
        )
        details = host_state_text(app, "box", part=".host-details")
        assert f"encrypted keys were not used (no passphrase): {key}" in details
        assert "r: retry once fixed" in details
