"""The command palette: the job actions of the key bindings, and per-host actions."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tfdash.errors import HostKeyUnknown
from tfdash.messages import RetryHostRequested
from tfdash.models import HostState
from tfdash.screens.main import MainScreen

# (title, help, action on the calling screen)
SCREEN_COMMANDS = (
    ("Launch job", "Open the launch form", "launch"),
    ("Open job", "Show the highlighted job's details and full log", "open"),
    ("Stop job", "Stop the highlighted job (asks first)", "stop"),
    ("Remove job", "Delete the highlighted ended job and its files (asks first)", "remove"),
    ("Job templates", "The templates of tfdash.toml; enter launches one", "templates"),
    ("Doctor", "Check the selected host: SSH, agent, clock, Python, tmux, disk, TF", "doctor"),
)

Command = tuple[str, str, Callable[[], Any]]


class CommandList(Provider):
    """A provider whose commands are a list made when the palette asks."""

    def _commands(self) -> list[Command]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for title, help_text, command in self._commands():
            yield DiscoveryHit(title, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, command in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), command, help=help_text)


class JobCommands(CommandList):
    """Offers the commands the screen the palette was opened on can run right now."""

    def _commands(self) -> list[Command]:
        screen = self.screen
        commands: list[Command] = []
        for title, help_text, action in SCREEN_COMMANDS:
            runnable = hasattr(screen, f"action_{action}") and screen.check_action(action, ())
            if runnable is True:
                commands.append((title, help_text, partial(screen.run_action, action)))
        commands.append(("Quit", "Quit tfdash (jobs keep running)", self.app.action_quit))
        return commands


class HostCommands(CommandList):
    """On the dashboard: trust or review a refused host key, retry a host, select a host."""

    def _commands(self) -> list[Command]:
        screen = self.screen
        if not isinstance(screen, MainScreen):
            return []
        commands: list[Command] = []
        for session in screen.manager.sessions:
            name = session.name
            refused = screen.refused_key(name)
            if refused is not None:
                trust = isinstance(refused, HostKeyUnknown)
                title = f"{'Trust' if trust else 'Review'} the host key of {name}"
                help_text = "See its fingerprint, then trust it" if trust else refused.title
                commands.append((title, help_text, partial(screen.review_host_key, name)))
            if session.status.state in (HostState.FAILED, HostState.RECONNECTING):
                retry = partial(screen.post_message, RetryHostRequested(name))
                commands.append((f"Retry {name} now", "Connect to it again at once", retry))
            select = partial(screen.select_host, name)
            commands.append((f"Select host {name}", "Launches go to the selected host", select))
        return commands
