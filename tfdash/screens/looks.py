"""The dashboard's looks and memory: the keymap and theme of config.toml, and the view
state (tfdash.services.ui_state) restored at start and saved when it changes.

The App installs a Looks on mount; the dashboard screen's view is collected from and
applied to its widgets here, so neither the App nor the screen carries the bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from textual.app import App
from textual.theme import BUILTIN_THEMES
from textual.widgets import Input, TabbedContent

from tfdash.config import ScalarSettings
from tfdash.config_ui import KeySettings, UiSettings
from tfdash.errors import ConfigError
from tfdash.screens.keymap import check_keymap
from tfdash.screens.main import TABS, MainScreen
from tfdash.services.ui_state import UiState, load_state, save_state

# Seconds between two looks at the view: a change is written at most this often.
SAVE_INTERVAL_S = 1.0
THEME_NAMES = {"dark": "textual-dark", "light": "textual-light"}
"""``[ui] theme`` short names → Textual's theme names (any Textual theme name works too)."""


def theme_name(theme: str) -> str:
    """Textual's name for ``[ui] theme``."""
    return THEME_NAMES.get(theme, theme)


def short_theme(name: str) -> str:
    """ "dark"/"light" for Textual's default themes, else the theme's own name."""
    return {value: key for key, value in THEME_NAMES.items()}.get(name, name)


@dataclass
class Looks:
    """What the App applies at start (keymap, theme, saved view) and what it saves."""

    keymap: dict[str, str]
    theme: str
    """Textual's theme name to start with."""
    defaults: UiState
    """The view as config.toml makes it: fields equal to these are not saved."""
    saved: UiState
    state_path: Path | None = None
    """None: nothing is remembered (the tests' default)."""

    def install(self, app: App[None]) -> None:
        """Apply the keymap and theme; look at the view every SAVE_INTERVAL_S."""
        app.set_keymap(self.keymap)
        app.theme = self.theme
        if self.state_path is not None:
            app.set_interval(SAVE_INTERVAL_S, lambda: self.save(app))

    def restore(self, screen: MainScreen, job: bool = True) -> None:
        """Select the saved host, job (unless ``job`` is False: one was asked for) and
        tab, and the Scalars tab's filter (its options were given to the screen)."""
        view = self.saved
        if view.host is not None:
            screen.select_host(view.host)
        if job and view.job_id is not None:
            screen.focus_job(view.job_id)
        if view.tab in TABS:
            screen.query_one("#detail", TabbedContent).active = view.tab
        if view.tag_filter:
            screen.scalars.query_one("#tag-filter", Input).value = view.tag_filter

    def collect(self, app: App[None], screen: MainScreen) -> UiState:
        """The view now, with only what differs from config.toml's values."""
        options = screen.scalars.options
        # No highlighted job yet (the saved one has not been polled, or the host is
        # away): keep the saved one rather than forget it.
        highlighted = screen.highlighted
        job_host, job_id = (
            (highlighted[0], highlighted[1].id)
            if highlighted is not None
            else (self.saved.job_host, self.saved.job_id)
        )
        view = UiState(
            host=screen.hosts.selected,
            job_host=job_host,
            job_id=job_id,
            tab=screen.active_tab if screen.is_mounted else None,
            smoothing=options.smoothing,
            x_axis=options.x.value,
            log_y=options.log_y,
            ignore_outliers=options.ignore_outliers,
            tag_filter=screen.scalars.filter_text,
            theme=short_theme(app.theme),
        )
        return view.changed_from(self.defaults)

    def save(self, app: App[None]) -> None:
        """Write the view if it changed since the last write (and a state file is used)."""
        screen = getattr(app, "main_screen", None)
        if self.state_path is None or not isinstance(screen, MainScreen):
            return
        if not screen.is_mounted or not screen.query("#detail"):
            return  # not composed yet, or taken down already
        view = self.collect(app, screen)
        if view != self.saved:
            save_state(self.state_path, view)
            self.saved = view


def prepare_looks(
    app_class: type,
    keys: KeySettings,
    ui: UiSettings,
    scalars: ScalarSettings,
    state_path: Path | None,
) -> tuple[Looks, ScalarSettings]:
    """The Looks of a new App and the Scalars options to start with (saved ones win);
    ConfigError for a bad ``[keys]`` entry or an unknown theme."""
    keymap = check_keymap(keys, app_class)
    if theme_name(ui.theme) not in BUILTIN_THEMES:
        others = sorted(set(BUILTIN_THEMES) - set(THEME_NAMES.values()))
        known = ", ".join(["dark", "light", *others])
        raise ConfigError(f"{ui.where()}: unknown theme {ui.theme!r} (known: {known})")
    defaults = UiState(
        tab="tab-log",
        smoothing=scalars.smoothing,
        x_axis=scalars.x_axis,
        log_y=scalars.log_y,
        ignore_outliers=scalars.ignore_outliers,
        tag_filter="",
        theme=ui.theme,
    )
    saved = load_state(state_path) if state_path is not None else UiState()
    view = saved.over(defaults)
    if view.theme is not None and theme_name(view.theme) not in BUILTIN_THEMES:
        view = replace(view, theme=ui.theme)  # a theme of another version: the config's
    started = replace(
        scalars,
        smoothing=view.smoothing if view.smoothing is not None else scalars.smoothing,
        x_axis=view.x_axis or scalars.x_axis,
        log_y=bool(view.log_y),
        ignore_outliers=bool(view.ignore_outliers),
    )
    looks = Looks(keymap, theme_name(view.theme or ui.theme), defaults, saved, state_path)
    return looks, started
