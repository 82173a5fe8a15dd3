"""The looks and memory of the dashboard: the help screen, [keys] remaps, the command
palette made from the bindings, the theme switch and the state kept between runs.

All over the still dashboard (a host that never connects, fixed jobs): no agent needed.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Static
from ui.still_dashboard import show_fixed_jobs, still_app

from tfdash.app import TfdashApp
from tfdash.config import load_config
from tfdash.config_ui import KeySettings
from tfdash.errors import ConfigError
from tfdash.screens.help import HelpScreen
from tfdash.screens.job_detail import JobDetailScreen
from tfdash.screens.launch import LaunchScreen

SIZE = (100, 30)


def help_text(app: TfdashApp) -> str:
    """The help screen as plain text, every section."""
    assert isinstance(app.screen, HelpScreen)
    console = Console(width=100, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    for section in app.screen.query(".help-section").results(Static):
        console.print(section.content)
    return console.export_text()


def keymap_from(tmp_path: Path, text: str) -> KeySettings:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path).keys


async def test_help_shows_the_screens_keys_remapped(tmp_path: Path) -> None:
    keys = keymap_from(tmp_path, '[keys]\nlaunch = "ctrl+n"\n"log.wrap" = "W"\n')
    app = still_app(keys=keys)
    async with app.run_test(size=SIZE) as pilot:
        await show_fixed_jobs(pilot)
        await pilot.press("question_mark")
        text = help_text(app)
        rows = [line.split() for line in text.splitlines()]
        assert ["ctrl+n", "Launch"] in rows
        assert ["W", "Wrap"] in rows
        assert ["n", "Launch"] not in rows
        for title in ("Everywhere", "The dashboard", "Log", "Scalars tab"):
            assert title in text
        assert "Launch form" not in text  # another screen's keys
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_a_remapped_key_runs_its_action_and_the_old_one_does_not(tmp_path: Path) -> None:
    app = still_app(keys=keymap_from(tmp_path, '[keys]\nlaunch = "ctrl+n"\n'))
    async with app.run_test(size=SIZE) as pilot:
        await show_fixed_jobs(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, LaunchScreen)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, LaunchScreen)


@pytest.mark.parametrize(
    ("toml", "line", "problem"),
    [
        ('[keys]\nlaunch = "ctrl+n"\nlaunchh = "L"\n', 3, "no binding 'launchh'"),
        ('# keys\n[keys]\nlaunch = "s"\n', 3, "'launch' on 's', which 'stop'"),
        ('[keys]\n"log.wrap" = "q"\n', 2, "which 'quit'"),
    ],
)
def test_a_bad_remap_is_an_error_naming_file_and_line(
    tmp_path: Path, toml: str, line: int, problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        still_app(keys=keymap_from(tmp_path, toml))
    assert f"config.toml, line {line}: " in raised.value.message
    assert problem in raised.value.message


def test_a_key_that_is_no_key_is_an_error_when_the_config_is_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config.toml, line 2: .*'ctrl n' is not a key"):
        keymap_from(tmp_path, '[keys]\nlaunch = "ctrl n"\n')


async def palette_titles(pilot: Pilot[Any], query: str) -> list[str]:
    await pilot.press("ctrl+p")
    await pilot.press(*query)
    await pilot.pause(0.5)
    assert isinstance(pilot.app.screen, CommandPalette)
    results = pilot.app.screen.query_one(CommandList)
    return [str(option.hit.text) for option in results.options]  # type: ignore[attr-defined]


async def test_the_palette_offers_a_binding_nobody_listed_and_runs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = still_app()
    rung: list[bool] = []
    monkeypatch.setattr(app, "bell", lambda: rung.append(True))
    app.bind("f9", "bell", description="Ring the bell")
    async with app.run_test(size=SIZE) as pilot:
        await show_fixed_jobs(pilot)
        assert "Ring the bell" in await palette_titles(pilot, "ring the bell")
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert rung == [True]


async def test_the_palette_leaves_out_what_cannot_run_now() -> None:
    app = still_app()
    async with app.run_test(size=SIZE) as pilot:
        await show_fixed_jobs(pilot)
        # The host is connecting: retrying has nothing to do; an ended job cannot stop.
        titles = await palette_titles(pilot, "retry host")
        assert "Retry host" not in titles
        await pilot.press("escape")
        assert "Export" in await palette_titles(pilot, "export")
        await pilot.press("escape")
        assert "Scalars" in await palette_titles(pilot, "scalars")


async def test_the_theme_switch_is_in_the_palette_and_remembered(tmp_path: Path) -> None:
    state = tmp_path / "state" / "state.json"
    app = still_app(state_path=state)
    async with app.run_test(size=SIZE) as pilot:
        await show_fixed_jobs(pilot)
        assert "Switch to light theme" in await palette_titles(pilot, "light theme")
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.theme == "textual-light"
        await pilot.press("q")
    assert json.loads(state.read_text())["view"]["theme"] == "light"
    again = still_app(state_path=state)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "textual-light"


async def test_tab_and_smoothing_come_back_after_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    app = still_app(state_path=state)
    async with app.run_test(size=SIZE) as pilot:
        await show_fixed_jobs(pilot)
        await pilot.press("2")  # the Scalars tab takes the focus
        await pilot.press("right_square_bracket")
        smoothing = app.main_screen.scalars.options.smoothing
        assert smoothing != 0.6
        await pilot.press("q")
    saved = json.loads(state.read_text())
    assert saved["view"]["tab"] == "tab-scalars"
    assert "log_y" not in saved["view"]  # unchanged: config.toml keeps deciding it
    again = still_app(state_path=state)
    async with again.run_test(size=SIZE) as pilot:
        await show_fixed_jobs(pilot)
        await pilot.pause()
        assert again.main_screen.active_tab == "tab-scalars"
        assert again.main_screen.scalars.options.smoothing == smoothing


@pytest.mark.parametrize(
    "content",
    ["{not json", '{"version": 99, "view": {"tab": "tab-gpus"}}', '{"version": 1, "view": []}'],
)
async def test_an_unusable_state_file_is_ignored_with_a_log_line(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    with caplog.at_level(logging.WARNING, logger="tfdash.services.ui_state"):
        app = still_app(state_path=state)
    assert f"ignoring the dashboard state in {state}" in caplog.text
    async with app.run_test(size=SIZE) as pilot:
        await show_fixed_jobs(pilot)
        assert app.main_screen.active_tab == "tab-log"


def test_an_unknown_theme_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[ui]\ntheme = "neon"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config.toml, line 2: unknown theme 'neon'"):
        still_app(ui=load_config(path).ui)


async def test_help_on_the_job_detail_shows_its_keys_not_the_dashboards() -> None:
    app = still_app()
    async with app.run_test(size=SIZE) as pilot:
        await show_fixed_jobs(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, JobDetailScreen)
        await pilot.press("question_mark")
        text = help_text(app)
        assert "Job detail" in text
        assert "Log filter and find" in text
        assert "The dashboard" not in text
        await pilot.press("question_mark")
        assert isinstance(app.screen, JobDetailScreen)
