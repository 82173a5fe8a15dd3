"""Host actions that need no SSH server: retrying a failed host, coalescing upload reports."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from textual.message import Message
from ui.dashboard_queries import SIZE, WaitFor, host_state_text, wait_connected

from tfdash.app import make_app
from tfdash.messages import UploadProgress
from tfdash.screens.ssh_prompts import UPLOAD_PROGRESS_INTERVAL_S, DashboardHooks
from tfdash.transport.local import LocalTransport
from tfdash.transport.manager import HostManager
from tfdash.transport.session import HostSession


async def test_r_connects_a_failed_host_again_once_it_is_fixed(
    tfdash_home: Path, tmp_path: Path, wait_for: WaitFor
) -> None:
    transport = LocalTransport(tfdash_home=tfdash_home, python=str(tmp_path / "no-python"))
    manager = HostManager()
    manager.add(HostSession("local", transport, reconnect=False))
    app = make_app(manager)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: host_state_text(app) == "failed", "the failure")
        assert app.main_screen.check_action("retry", ()) is True
        assert app.main_screen.check_action("trust", ()) is None  # not a host key problem
        transport.python = sys.executable  # the person fixed it
        await pilot.press("r")
        await wait_connected(pilot, wait_for)
        assert app.main_screen.check_action("retry", ()) is None


async def test_upload_reports_are_coalesced_to_a_few_per_second(
    tfdash_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]
    hooks = DashboardHooks(clock=lambda: now[0])
    hooks.upload_progress("box", 0, 1000)  # no dashboard yet: dropped, nothing breaks
    assert await hooks.passphrase("Enter passphrase for key 'k': ") is None
    manager = HostManager()
    manager.add(HostSession("local", LocalTransport(tfdash_home=tfdash_home)))
    app = make_app(manager, hooks=hooks)
    posted: list[tuple[int, int]] = []
    real_post = app.post_message

    def record(message: Message) -> bool:
        if isinstance(message, UploadProgress):
            posted.append((message.sent, message.total))
        return real_post(message)

    monkeypatch.setattr(app, "post_message", record)
    async with app.run_test(size=SIZE):
        step = UPLOAD_PROGRESS_INTERVAL_S * 0.3
        for sent in range(0, 1000, 100):  # ten reports within three intervals
            hooks.upload_progress("box", sent, 1000)
            now[0] += step
        hooks.upload_progress("box", 1000, 1000)
    # The first, then one per interval, and always the last.
    assert posted == [(0, 1000), (400, 1000), (800, 1000), (1000, 1000)]
