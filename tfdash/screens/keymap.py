"""Checking config.toml's ``[keys]`` against the real bindings before the App uses it:
an unknown binding id, or a key that another binding of the same screen or widget (or a
global one) already has, is a ConfigError naming the file and line."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import App
from textual.binding import Binding

from tfdash.config_ui import KeySettings
from tfdash.errors import ConfigError
from tfdash.screens.keytable import own_bindings, sections


def normalized(keymap: Mapping[str, str]) -> dict[str, str]:
    """The keymap with keys in Textual's long form ("?" → "question_mark"), as
    App.set_keymap stores it."""
    return dict(App._normalize_keymap(dict(keymap)))


def known_ids(app_class: type) -> set[str]:
    """Every binding id of the dashboard: the ids ``[keys]`` may remap."""
    return {
        binding.id
        for _, _, classes in sections(app_class)
        for cls in classes
        for binding in own_bindings(cls)
        if binding.id is not None
    }


def check_keymap(settings: KeySettings, app_class: type) -> dict[str, str]:
    """The normalized keymap of ``settings``; ConfigError for an unknown id or a clash."""
    keymap = normalized(settings.bindings)
    ids = known_ids(app_class)
    for binding_id in keymap:
        if binding_id not in ids:
            raise ConfigError(
                f"{settings.where(binding_id)}: [keys] has no binding {binding_id!r} "
                "(the ids are in docs/keys.md)"
            )
    global_bindings = own_bindings(app_class)
    for _, _, classes in sections(app_class):
        for cls in classes:
            extra = [] if cls is app_class else global_bindings
            _check_clashes([*own_bindings(cls), *extra], keymap, settings)
    return keymap


def _check_clashes(
    bindings: list[Binding], keymap: Mapping[str, str], settings: KeySettings
) -> None:
    """Two bindings of one node on one key, one of them remapped there: an error."""
    owner: dict[str, Binding] = {}
    for binding in bindings:
        keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
        for key in normalized({"keys": keys})["keys"].split(","):
            other = owner.setdefault(key, binding)
            if other is binding or other.id == binding.id:
                continue
            moved, kept = (binding, other) if binding.id in keymap else (other, binding)
            if moved.id not in keymap:
                continue  # a clash as shipped (none today): not the person's doing
            raise ConfigError(
                f"{settings.where(moved.id or '')}: [keys] puts {moved.id!r} on {key!r}, "
                f"which {kept.id or kept.action!r} already uses there"
            )
