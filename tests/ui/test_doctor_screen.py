"""The doctor screen (D) over the dashboard's own sessions: the local agent's checks, and
a host that cannot be reached, whose ssh row carries the failure and its fix."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static
from ui.dashboard_queries import SIZE, WaitFor, host_state_text, wait_connected

from tfdash.app import TfdashApp, make_app
from tfdash.config import HostConfig, TrustPolicy
from tfdash.screens.doctor import DoctorScreen
from tfdash.screens.main import MainScreen
from tfdash.transport.local import LocalTransport
from tfdash.transport.manager import HostManager
from tfdash.transport.session import HostSession
from tfdash.transport.ssh import SshTransport

HOST_CHECKS = ["python", "tmux", "disk_jobs", "disk_exports", "tensorflow", "tf_gpu", "nvml"]


def rows(app: TfdashApp) -> dict[str, list[str]]:
    """The doctor table's rows by check name: [check, result, detail, fix]."""
    table = app.screen.query_one("#doctor-table", DataTable)
    return {str(row[0]): [str(cell) for cell in row] for row in map(table.get_row, table.rows)}


def summary_text(app: TfdashApp) -> str:
    return str(app.screen.query_one("#doctor-summary", Static).render())


@pytest.mark.tf
async def test_the_local_hosts_checks_appear_with_no_gpu_rows(
    app: TfdashApp, wait_for: WaitFor
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, wait_for)
        await pilot.press("D")
        assert isinstance(app.screen, DoctorScreen)
        await wait_for(pilot, lambda: "passed" in summary_text(app), "the checks", timeout=180)
        checks = rows(app)
        assert list(checks) == ["ssh", "agent", "clock", *HOST_CHECKS]
        assert checks["ssh"][1:3] == ["\u2013 n/a", "the local host: no SSH"]
        for name in ("agent", "clock", "python", "tmux", "disk_jobs", "tensorflow"):
            assert checks[name][1] == "✔ pass", checks[name]
        assert checks["tf_gpu"][1:3] == ["\u2013 n/a", "no GPU visible to TensorFlow"]
        assert checks["nvml"][1] == "\u2013 n/a" and checks["nvml"][2].startswith("no GPU")
        assert summary_text(app).startswith("7 passed, 0 failed, 3 not applicable: all good")
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_an_unreachable_host_fails_the_ssh_row_with_a_fix_and_r_runs_again(
    tfdash_home: Path, wait_for: WaitFor
) -> None:
    host = HostConfig(
        name="box",
        host="127.0.0.1",
        port=closed_port(),
        user="nobody",
        trust=TrustPolicy.KNOWN_HOSTS,
        connect_timeout=5.0,
    )
    manager = HostManager()
    manager.add(HostSession("local", LocalTransport(tfdash_home=tfdash_home)))
    manager.add(HostSession("box", SshTransport(host), backoff_initial=30.0))
    app = make_app(manager)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: host_state_text(app, "box") != "connecting", "box to fail")
        app.main_screen.select_host("box")
        await pilot.press("D")
        assert isinstance(app.screen, DoctorScreen)
        await wait_for(pilot, lambda: "failed" in summary_text(app), "the checks")
        checks = rows(app)
        assert list(checks) == ["ssh"]
        assert checks["ssh"][1] == "✘ fail"
        assert "127.0.0.1" in checks["ssh"][2]
        assert "r on the dashboard retries box now" in checks["ssh"][3]
        assert summary_text(app).startswith("0 passed, 1 failed, 0 not applicable: see the fixes")

        await pilot.press("r")
        await wait_for(pilot, lambda: "failed" in summary_text(app), "the checks again")
        assert list(rows(app)) == ["ssh"]
