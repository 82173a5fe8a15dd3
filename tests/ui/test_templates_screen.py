"""The templates screen (T): a tfdash.toml found from the working directory, launching a
template on the real local agent, relaunching one that runs, broken and missing files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static
from ui.dashboard_queries import SIZE, WaitFor, job_ids_in_table, table_cell, wait_connected

from tfdash.app import TfdashApp
from tfdash.screens.main import MainScreen
from tfdash.screens.relaunch import RelaunchScreen
from tfdash.screens.templates import TemplatesScreen


def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str | None) -> Path:
    """A project directory inside the test's HOME (the walk-up stops there), made the cwd."""
    directory = tmp_path / "user-home" / "project" / "src"
    directory.mkdir(parents=True)
    if toml is not None:
        (directory.parent / "tfdash.toml").write_text(toml)
    monkeypatch.chdir(directory)
    return directory.parent / "tfdash.toml"


def static_text(app: TfdashApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def highlighted_id(app: TfdashApp) -> str | None:
    entry = app.main_screen.highlighted
    return None if entry is None else entry[1].id


async def test_enter_launches_the_template_and_a_running_one_is_stopped_and_relaunched(
    app: TfdashApp,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    wait_for: WaitFor,
) -> None:
    toml = (
        '[jobs.idle]\ncommand = "echo never"\n\n'
        '[jobs.sleeper]\ncommand = "echo started in $PWD; sleep 300"\nmode = "nohup"\n'
    )
    path = project(tmp_path, monkeypatch, toml)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, wait_for)
        await pilot.press("T")
        screen = app.screen
        assert isinstance(screen, TemplatesScreen)
        assert static_text(app, "#templates-title") == f"Templates of {path}"
        table = screen.query_one("#templates-table", DataTable)
        assert [str(row.key.value) for row in table.ordered_rows] == ["idle", "sleeper"]
        assert table.get_row("sleeper") == ["sleeper", "local", toml.split('"')[3], "nohup", "-"]

        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the dashboard")
        await wait_for(pilot, lambda: len(job_ids_in_table(app)) == 1, "the launched job")
        first = job_ids_in_table(app)[0]
        await wait_for(pilot, lambda: highlighted_id(app) == first, "the new job highlighted")
        await wait_for(pilot, lambda: table_cell(app, first, "state") == "running", "it to run")
        assert table_cell(app, first, "name") == "sleeper"

        await pilot.press("T")
        templates = app.screen
        assert isinstance(templates, TemplatesScreen)
        last_job = templates.query_one("#templates-table", DataTable)
        await wait_for(
            pilot,
            lambda: last_job.get_cell("sleeper", "last job") == f"running ({first})",
            "the template's last job",
        )
        await pilot.press("down", "enter")
        assert isinstance(app.screen, RelaunchScreen)
        await pilot.press("s")  # stop it, then launch again
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the dashboard")
        await wait_for(pilot, lambda: len(job_ids_in_table(app)) == 2, "the relaunched job")
        second = next(job for job in job_ids_in_table(app) if job != first)
        await wait_for(pilot, lambda: highlighted_id(app) == second, "the new job highlighted")
        assert table_cell(app, first, "state") in {"stopped", "killed"}
        await wait_for(pilot, lambda: table_cell(app, second, "state") == "running", "it to run")


async def test_a_broken_file_shows_its_line_and_an_unknown_host_is_named(
    app: TfdashApp,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    notifications: list[dict[str, Any]],
) -> None:
    path = project(tmp_path, monkeypatch, '[jobs.train]\ncommand = "x"\nmode = "docker"\n')
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("T")
        assert isinstance(app.screen, TemplatesScreen)
        error = static_text(app, "#templates-empty")
        assert error.startswith(f"{path}, line 3: ")
        assert "docker" in error

        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        path.write_text('[jobs.train]\nhost = "gpu7"\ncommand = "python train.py"\n')
        await pilot.press("T")
        await pilot.press("enter")
        assert isinstance(app.screen, TemplatesScreen)  # nothing launched
        shown = [note for note in notifications if note.get("title") == "Unknown host"]
        assert len(shown) == 1
        assert "'gpu7'" in shown[0]["message"] and "[hosts.gpu7]" in shown[0]["message"]


async def test_no_file_says_where_it_looked_and_how_to_write_one(
    app: TfdashApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wait_for: WaitFor
) -> None:
    directory = project(tmp_path, monkeypatch, None).parent / "src"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p", *"job templates")  # the palette has it too
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TemplatesScreen), "the templates")
        assert static_text(app, "#templates-title") == "Templates: none found"
        empty = static_text(app, "#templates-empty")
        assert f"no tfdash.toml in {directory} or a directory above it" in empty
        assert "[jobs.train]" in empty
        assert app.screen.check_action("launch", ()) is None
