"""What the dashboard remembers between runs: the selected host, the highlighted job, the
active tab, the Scalars tab's options and the theme, in ``state.json``.

Only what the person changed in the dashboard is kept (a field left at config.toml's
value is not written), so config.toml gives the defaults and the saved state wins for
what was changed. A corrupt file, or one of another version, is ignored with a log line:
losing a remembered tab is no reason to refuse to start.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

STATE_ENV = "TFDASH_STATE"
STATE_VERSION = 1

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UiState:
    """The remembered view; None: not changed in the dashboard (use the config's value)."""

    host: str | None = None
    job_host: str | None = None
    job_id: str | None = None
    tab: str | None = None
    smoothing: float | None = None
    x_axis: str | None = None
    log_y: bool | None = None
    ignore_outliers: bool | None = None
    tag_filter: str | None = None
    theme: str | None = None

    def changed_from(self, defaults: UiState) -> UiState:
        """This state without the fields that equal ``defaults`` (the config's values)."""
        kept = {
            item.name: getattr(self, item.name)
            for item in fields(self)
            if getattr(self, item.name) != getattr(defaults, item.name)
        }
        return UiState(**kept)

    def over(self, defaults: UiState) -> UiState:
        """``defaults`` with this state's set fields on top."""
        return replace(defaults, **{k: v for k, v in asdict(self).items() if v is not None})


_TYPES: dict[str, tuple[type, ...]] = {
    "host": (str,),
    "job_host": (str,),
    "job_id": (str,),
    "tab": (str,),
    "smoothing": (int, float),
    "x_axis": (str,),
    "log_y": (bool,),
    "ignore_outliers": (bool,),
    "tag_filter": (str,),
    "theme": (str,),
}


def state_file() -> Path:
    """$TFDASH_STATE if set, else $XDG_STATE_HOME/tfdash/state.json
    (default ~/.local/state/tfdash/state.json)."""
    explicit = os.environ.get(STATE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "tfdash" / "state.json"


def load_state(path: Path) -> UiState:
    """The saved state, or an empty one if there is none or it cannot be used."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UiState()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("ignoring the dashboard state in %s: %s", path, exc)
        return UiState()
    problem = _problem(data)
    if problem is not None:
        log.warning("ignoring the dashboard state in %s: %s", path, problem)
        return UiState()
    view = {key: value for key, value in data["view"].items() if value is not None}
    if "smoothing" in view:
        view["smoothing"] = float(view["smoothing"])
    return UiState(**view)


def _problem(data: Any) -> str | None:
    """Why ``data`` is not a state this version can use, or None."""
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        return f"not a version {STATE_VERSION} state file"
    view = data.get("view")
    if not isinstance(view, dict):
        return "no view table"
    for key, value in view.items():
        kinds = _TYPES.get(key)
        if kinds is None:
            return f"unknown field {key!r}"
        if value is not None and (not isinstance(value, kinds) or _bool_for_number(value, kinds)):
            return f"{key} is {value!r}"
    if view.get("x_axis") not in (None, "step", "relative", "wall"):
        return f"x_axis is {view['x_axis']!r}"
    if view.get("smoothing") is not None and not 0 <= view["smoothing"] < 1:
        return f"smoothing is {view['smoothing']!r}"
    return None


def _bool_for_number(value: Any, kinds: tuple[type, ...]) -> bool:
    return isinstance(value, bool) and bool not in kinds


def save_state(path: Path, state: UiState) -> None:
    """Write ``state`` atomically (temp file, fsync, rename): a crash leaves the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    view = {key: value for key, value in asdict(state).items() if value is not None}
    text = json.dumps({"version": STATE_VERSION, "view": view}, indent=2, sort_keys=True)
    fd, temp = tempfile.mkstemp(prefix=".state-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
