"""Alerts in the dashboard: raised while no dashboard ran, shown once when one starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.agent import AgentProcess
from textual.widgets import DataTable
from ui.dashboard_queries import SIZE, WaitFor
from ui.ssh_dashboard import record_notifications

from tfdash.app import TfdashApp, make_app
from tfdash.config import AlertSettings
from tfdash.screens.alerts import AlertDetailScreen, AlertsScreen
from tfdash.transport.manager import local_manager


def fail_a_job_offline(home: Path, code: str = "raise ValueError('bad shape')") -> str:
    """A job that fails and ends while no dashboard is connected."""
    agent = AgentProcess(home)
    try:
        command = f'python3 -c "{code}"'
        job = agent.call("jobs.launch", {"name": "bad", "command": command, "mode": "nohup"})
        agent.wait_final(str(job["id"]))
        return str(job["id"])
    finally:
        agent.close()


def dashboard(home: Path, bell: str = "errors") -> TfdashApp:
    return make_app(local_manager(home), alert_settings=AlertSettings(bell=bell))


def count_bells(app: TfdashApp, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    rung: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: rung.append(1))
    return rung


def alert_notes(notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [note for note in notes if str(note.get("title", "")).startswith("Alert: bad")]


async def test_alerts_raised_offline_are_shown_once_listed_and_detailed(
    tfdash_home: Path, wait_for: WaitFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = fail_a_job_offline(tfdash_home)
    app = dashboard(tfdash_home)
    notes = record_notifications(app, monkeypatch)
    bells = count_bells(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(alert_notes(notes)) == 2, "the two alerts")
        messages = {note["message"] for note in alert_notes(notes)}
        assert messages == {"ValueError: bad shape", "bad failed (exit 1)"}
        assert all(note["severity"] == "error" for note in alert_notes(notes))
        assert bells == [1]
        assert "2 alerts (!)" in str(app.main_screen.status_bar.render())
        await pilot.press("exclamation_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen), "the alerts list")
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        await wait_for(pilot, lambda: len(screen.alerts) == 2, "two rows")
        assert screen.query_one(DataTable).row_count == 2
        assert "alert" not in str(app.main_screen.status_bar.render())
        traceback_row = next(i for i, a in enumerate(screen.alerts) if a.kind == "traceback")
        screen.table.move_cursor(row=traceback_row)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertDetailScreen), "the detail")
        detail = app.screen
        assert isinstance(detail, AlertDetailScreen)
        assert detail.alert.job == job_id
        assert "Traceback (most recent call last):" in (detail.alert.detail or "")
        await pilot.press("o")
        await wait_for(pilot, lambda: app.screen is app.main_screen, "back on the dashboard")
    again = dashboard(tfdash_home)
    notes_again = record_notifications(again, monkeypatch)
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "local" in again.main_screen.latest_jobs, "a jobs poll")
        await pilot.pause(1.5)  # the alerts fetch after it, and another poll
        assert alert_notes(notes_again) == []


async def test_the_bell_setting_off_rings_nothing(
    tfdash_home: Path, wait_for: WaitFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_a_job_offline(tfdash_home, "raise SystemExit(2)")
    app = dashboard(tfdash_home, bell="off")
    notes = record_notifications(app, monkeypatch)
    bells = count_bells(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: alert_notes(notes), "the ended alert")
        assert bells == []
