"""The one error tree of tfdash: every error has a one-line message and a title.

Recoverable errors are shown to the person (a notification, a modal, a CLI message);
``exit_code`` is what the CLI exits with when one ends a command.
"""

from __future__ import annotations

from typing import Any

from remote_agent import protocol


class TfdashError(Exception):
    """Base of every error tfdash shows to a person."""

    title = "Error"
    exit_code = 1

    def __init__(self, message: str, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message


class UsageError(TfdashError):
    """The person asked for something malformed (bad flag, unknown job name)."""

    title = "Usage"
    exit_code = 2


class ConfigError(TfdashError):
    """A configuration file is wrong; the message names the file and line."""

    title = "Configuration"
    exit_code = 2


class ConnectionFailed(TfdashError):
    """The agent could not be reached or the connection dropped."""

    title = "Connection failed"
    exit_code = 2


class ProtocolMismatch(ConnectionFailed):
    """Client and agent speak different protocol versions."""

    title = "Protocol mismatch"


class RequestTimeout(TfdashError):
    """The agent did not answer a request in time."""

    title = "Timed out"


class RequestCancelled(TfdashError):
    """A request was cancelled before it finished."""

    title = "Cancelled"


class AgentError(TfdashError):
    """The agent answered a request with a JSON-RPC error."""

    title = "Agent error"

    def __init__(self, code: int, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message, title=protocol.ERROR_NAMES.get(code, "agent error").capitalize())
        self.code = code
        self.data = data or {}
        if code == protocol.INVALID_PARAMS:
            self.exit_code = UsageError.exit_code  # the person passed a bad value

    @property
    def is_not_found(self) -> bool:
        return self.code == protocol.NOT_FOUND
