"""The command palette's view of every key: each shown binding of the screen under the
palette, of its focused widget and that widget's ancestors, and of the App, by its
description, runnable. A binding added anywhere appears here without anyone listing it;
actions that can not run now (check_action False or None) are not offered.

Plus the actions that have no key: switching between the light and dark theme.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.actions import parse
from textual.binding import Binding
from textual.dom import DOMNode

from tfdash.commands import SCREEN_COMMANDS, Command, CommandList
from tfdash.screens.keytable import SCREEN_SECTIONS, key_names

# Offered under better names by JobCommands (tfdash.commands): not twice.
_OFFERED_ELSEWHERE = {action for _, _, action in SCREEN_COMMANDS} | {"quit"}
_THEMES = {"textual-dark": "light", "textual-light": "dark"}


def _where(node: DOMNode) -> str:
    """The keys reference's title for the node (e.g. "Scalars tab"), if it has one."""
    for title, _, classes in SCREEN_SECTIONS:
        if isinstance(node, tuple(classes)):
            return title
    return "Everywhere" if node is node.app else type(node).__name__


def _chain(screen: DOMNode) -> list[DOMNode]:
    """The nodes whose bindings a key reaches on ``screen``: focus first, App last."""
    focused = getattr(screen, "focused", None)
    if focused is None:
        return [screen, screen.app]
    return list(focused.ancestors_with_self)


class BindingCommands(CommandList):
    """Every runnable binding where the palette was opened, and the theme switch."""

    def _bindings(self, node: DOMNode) -> Iterator[Binding]:
        """``node``'s bindings with config.toml's keymap applied (as Textual applies it)."""
        bindings = node._bindings.copy()
        bindings.apply_keymap(self.app._keymap)
        for keyed in bindings.key_to_bindings.values():
            yield from keyed

    def _commands(self) -> list[Command]:
        commands: list[Command] = []
        seen: set[tuple[int, str]] = set()
        for node in _chain(self.screen):
            for binding in self._bindings(node):
                _, name, params = parse(binding.action)
                key = (id(node), binding.action)
                if not (binding.show and binding.description) or key in seen:
                    continue
                seen.add(key)
                if node in (self.screen, self.app) and name in _OFFERED_ELSEWHERE:
                    continue
                if node.check_action(name, params) is not True:
                    continue
                keys = " / ".join(key_names(binding.key))
                run = partial(self.app.run_action, binding.action, node)
                commands.append((binding.description, f"{keys} · {_where(node)}", run))
        other = _THEMES.get(self.app.theme, "dark")
        commands.append(
            (
                f"Switch to {other} theme",
                "Remembered for the next start (\\[ui] theme in config.toml is the default)",
                partial(setattr, self.app, "theme", f"textual-{other}"),
            )
        )
        return commands
