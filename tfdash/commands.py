"""The command palette's job commands: the same actions as the key bindings."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, help, action on the calling screen)
SCREEN_COMMANDS = (
    ("Launch job", "Open the launch form", "launch"),
    ("Open job", "Show the highlighted job's details and full log", "open"),
    ("Stop job", "Stop the highlighted job (asks first)", "stop"),
    ("Remove job", "Delete the highlighted ended job and its files (asks first)", "remove"),
)


class JobCommands(Provider):
    """Offers the commands the screen the palette was opened on can run right now."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        screen = self.screen
        commands: list[tuple[str, str, Callable[[], Any]]] = []
        for title, help_text, action in SCREEN_COMMANDS:
            runnable = hasattr(screen, f"action_{action}") and screen.check_action(action, ())
            if runnable is True:
                commands.append((title, help_text, partial(screen.run_action, action)))
        commands.append(("Quit", "Quit tfdash (jobs keep running)", self.app.action_quit))
        return commands

    async def discover(self) -> Hits:
        for title, help_text, command in self._commands():
            yield DiscoveryHit(title, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, command in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), command, help=help_text)
