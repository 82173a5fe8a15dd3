"""config.toml's ``[keys]`` (remapped bindings) and ``[ui]`` (the theme), checked as far
as this layer can: which binding ids and themes exist is known only to the UI, so each
key remembers its line, and the UI's check (tfdash.screens.keymap) names it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfdash.config_lines import Fail, find_line

UI_KEYS = ("theme",)
"""The keys of the [ui] table."""
DEFAULT_THEME = "dark"
"""``[ui] theme``: "dark", "light" or the name of any Textual theme."""

# One key: modifiers joined by "+", then a key name or a single character.
_KEY = re.compile(r"(?:(?:ctrl|shift|alt|meta|super|hyper)\+)*(?:[A-Za-z0-9_]{2,}|[^\s,+]|\+)")


@dataclass(frozen=True)
class KeySettings:
    """``[keys]``: binding id → the keys that run it instead ("ctrl+n", "a,A")."""

    bindings: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int | None] = field(default_factory=dict)
    """The config.toml line of each binding id, for errors found later by the UI."""
    path: Path | None = None

    def where(self, binding_id: str) -> str:
        """``config.toml, line 7``: where ``binding_id`` was remapped."""
        line = self.lines.get(binding_id)
        if self.path is None:
            return "[keys]"
        return f"{self.path}, line {line}" if line is not None else str(self.path)


@dataclass(frozen=True)
class UiSettings:
    """``[ui]``: the theme (the state file's theme, set in the dashboard, wins)."""

    theme: str = DEFAULT_THEME
    theme_line: int | None = None
    path: Path | None = None

    def where(self) -> str:
        """Where the theme was set, for an unknown theme's error."""
        if self.path is None:
            return "[ui]"
        return f"{self.path}, line {self.theme_line}" if self.theme_line else str(self.path)


def parse_keys(table: Any, fail: Fail, text: str, path: Path) -> KeySettings:
    """``[keys]`` as KeySettings: every value a comma-separated list of key names."""
    if not isinstance(table, dict):
        raise fail((), "keys", "keys must be a table: a [keys] section")
    bindings: dict[str, str] = {}
    for binding_id, keys in table.items():
        if not isinstance(keys, str) or not keys.strip():
            raise fail(("keys",), binding_id, f'keys.{binding_id}: expected keys like "ctrl+n"')
        parts = [part.strip() for part in keys.split(",")]
        bad = [part for part in parts if not _KEY.fullmatch(part)]
        if bad:
            raise fail(("keys",), binding_id, f"keys.{binding_id}: {bad[0]!r} is not a key")
        bindings[binding_id] = ",".join(parts)
    lines = {binding_id: find_line(text, ("keys",), binding_id) for binding_id in bindings}
    return KeySettings(bindings=bindings, lines=lines, path=path)


def parse_ui(table: Any, fail: Fail, text: str, path: Path) -> UiSettings:
    """``[ui]`` as UiSettings (the theme's existence is checked by the App)."""
    if not isinstance(table, dict):
        raise fail((), "ui", "ui must be a table: a [ui] section")
    unknown = sorted(set(table) - set(UI_KEYS))
    if unknown:
        raise fail(("ui",), unknown[0], f"unknown key {unknown[0]!r} in ui (known: theme)")
    theme = table.get("theme", DEFAULT_THEME)
    if not isinstance(theme, str) or not theme.strip():
        raise fail(("ui",), "theme", 'ui.theme: expected "dark", "light" or a theme name')
    return UiSettings(theme=theme, theme_line=find_line(text, ("ui",), "theme"), path=path)


def parse_looks(data: Mapping[str, Any], fail: Fail, text: str, path: Path) -> dict[str, Any]:
    """The ``keys`` and ``ui`` fields of Config from parsed TOML (absent tables: defaults)."""
    return {
        "keys": parse_keys(data.get("keys", {}), fail, text, path),
        "ui": parse_ui(data.get("ui", {}), fail, text, path),
    }
