"""Where tfdash keeps local files: the local agent's TFDASH_HOME and the config directory.

Path helpers only; reading the configuration is tfdash.config's job.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HOME_ENV = "TFDASH_HOME"
CONFIG_ENV = "TFDASH_CONFIG"


def tfdash_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The local TFDASH_HOME: ``explicit`` if given, else $TFDASH_HOME, else ~/.tfdash."""
    if explicit is not None:
        return Path(explicit).expanduser()
    from_env = os.environ.get(HOME_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return Path.home() / ".tfdash"


def config_dir() -> Path:
    """The platform config directory: $XDG_CONFIG_HOME/tfdash, else ~/.config/tfdash."""
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".config"
    return base / "tfdash"


def config_file() -> Path:
    """The configuration file: $TFDASH_CONFIG if set, else ``config.toml`` in config_dir()."""
    from_env = os.environ.get(CONFIG_ENV)
    return Path(from_env).expanduser() if from_env else config_dir() / "config.toml"


def cache_dir() -> Path:
    """The platform's per-user cache directory for tfdash (XDG on Linux)."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "tfdash"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "tfdash"


def state_dir() -> Path:
    """Where the dashboard keeps what it remembers between runs: $XDG_STATE_HOME/tfdash
    (default ~/.local/state/tfdash)."""
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "tfdash"


def alerts_cursor_file(host: str) -> Path:
    """The cursor of the alerts of ``host`` already shown (docs/alerts.md, "Delivery")."""
    return state_dir() / "alerts" / f"{host}.json"
