"""The dashboard's remembered view (state.json) and config.toml's [keys] and [ui]."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tfdash.config import load_config
from tfdash.errors import ConfigError
from tfdash.services.ui_state import UiState, load_state, save_state, state_file


def test_only_what_differs_from_the_config_is_saved_and_read_back(tmp_path: Path) -> None:
    defaults = UiState(tab="tab-log", smoothing=0.6, log_y=False, theme="dark")
    view = UiState(host="b", job_host="b", job_id="j1", tab="tab-scalars", smoothing=0.6)
    changed = view.changed_from(defaults)
    assert changed == UiState(host="b", job_host="b", job_id="j1", tab="tab-scalars")
    path = tmp_path / "deep" / "state.json"
    save_state(path, changed)
    assert json.loads(path.read_text()) == {
        "version": 1,
        "view": {"host": "b", "job_host": "b", "job_id": "j1", "tab": "tab-scalars"},
    }
    assert load_state(path) == changed
    assert load_state(path).over(defaults).smoothing == 0.6
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temp file left


@pytest.mark.parametrize(
    "view",
    [
        {"tab": 3},
        {"log_y": "yes"},
        {"smoothing": True},
        {"x_axis": "sideways"},
        {"smoothing": 1.5},
        {"colour": "red"},
    ],
)
def test_a_state_with_a_bad_field_is_ignored(tmp_path: Path, view: dict[str, object]) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": 1, "view": view}))
    assert load_state(path) == UiState()


def test_a_missing_state_is_empty_and_the_file_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_state(tmp_path / "none.json") == UiState()
    monkeypatch.delenv("TFDASH_STATE", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert state_file() == tmp_path / "tfdash" / "state.json"
    monkeypatch.setenv("TFDASH_STATE", str(tmp_path / "mine.json"))
    assert state_file() == tmp_path / "mine.json"


def test_keys_and_ui_tables_are_read_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[ui]\ntheme = "light"\n\n[keys]\nlaunch = "ctrl+n"\nremove = "x, d"\n')
    config = load_config(path)
    assert config.ui.theme == "light"
    assert config.keys.bindings == {"launch": "ctrl+n", "remove": "x,d"}
    assert config.keys.where("remove") == f"{path}, line 6"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[ui]\ntheme = ""\n', r"line 2: ui.theme: expected"),
        ("[ui]\nfont = 3\n", r"line 2: unknown key 'font' in ui"),
        ("[keys]\nlaunch = 3\n", r"line 2: keys.launch: expected keys"),
        ('keys = "n"\n', r"line 1: keys must be a table"),
    ],
)
def test_bad_keys_and_ui_tables_name_the_line(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem):
        load_config(path)
