"""Snapshot tests of the dashboard: at 120x40 over a real local agent, and at 80x24 and
200x60 (dark and light, and the help screen) over a host with fixed jobs and no agent.

Only what is the same on every run is on screen. Over the agent: the host is "local",
there are no jobs (no ids, times or pids), and the hosts pane shows the agent's version,
its Python's version and tmux's version (fixed for a given machine image).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input
from ui.still_dashboard import show_fixed_jobs, still_app

from tfdash.app import TfdashApp, make_app
from tfdash.config_ui import UiSettings
from tfdash.models import HostState
from tfdash.screens.help import HelpScreen
from tfdash.screens.launch import LaunchScreen
from tfdash.transport.manager import local_manager
from tfdash.widgets.host_list import HostList

TERMINAL_SIZE = (120, 40)
WAIT_TIMEOUT_S = 60.0


async def wait_until_connected_and_listed(pilot: Pilot[Any]) -> None:
    """Run the app until the host shows connected and its (empty) job list was polled."""
    app = pilot.app
    assert isinstance(app, TfdashApp)
    deadline = time.monotonic() + WAIT_TIMEOUT_S

    def ready() -> bool:
        # The auto-pilot may start before the dashboard has composed its widgets.
        for hosts in app.main_screen.query(HostList):
            status = hosts.status_of("local")
            return status is not None and status.state is HostState.CONNECTED
        return False

    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"the host did not connect within {WAIT_TIMEOUT_S:g} s")
        await pilot.pause(0.05)
    # Let at least one poll of the job list land.
    await pilot.pause(1.5)


def test_dashboard_connected_without_jobs(snap_compare: Any, tfdash_home: Path) -> None:
    app = make_app(local_manager(tfdash_home))
    assert snap_compare(
        app, terminal_size=TERMINAL_SIZE, run_before=wait_until_connected_and_listed
    )


def test_launch_form_open(snap_compare: Any, tfdash_home: Path) -> None:
    app = make_app(local_manager(tfdash_home))

    async def open_launch_form(pilot: Pilot[Any]) -> None:
        await wait_until_connected_and_listed(pilot)
        await pilot.press("n")
        assert isinstance(pilot.app.screen, LaunchScreen)
        # A blinking cursor would make the picture depend on timing.
        pilot.app.screen.query_one("#launch-name", Input).cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=open_launch_form)


# ---- the still dashboard: fixed jobs on a host that never connects (no agent) ----------


def test_dashboard_at_80x24(snap_compare: Any) -> None:
    """The smallest usable terminal: hosts, the jobs' names and states, the log, the footer."""
    assert snap_compare(still_app(), terminal_size=(80, 24), run_before=show_fixed_jobs)


def test_dashboard_at_200x60(snap_compare: Any) -> None:
    """A big terminal: a wider hosts pane, every column of the jobs table."""
    assert snap_compare(still_app(), terminal_size=(200, 60), run_before=show_fixed_jobs)


def test_dashboard_at_80x24_light(snap_compare: Any) -> None:
    app = still_app(ui=UiSettings(theme="light"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=show_fixed_jobs)


def test_help_at_80x24(snap_compare: Any) -> None:
    async def open_help(pilot: Pilot[Any]) -> None:
        await show_fixed_jobs(pilot)
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        await pilot.pause()

    assert snap_compare(still_app(), terminal_size=(80, 24), run_before=open_help)
