"""The one error tree of tfdash: every error has a one-line message and a title.

Recoverable errors are shown to the person (a notification, a modal, a CLI message);
``exit_code`` is what the CLI exits with when one ends a command.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
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
    # Whether reconnecting may help. False for what needs a person: a wrong key, an
    # unknown or changed host key, a protocol mismatch, a remote Python too old.
    retryable = True


class ProtocolMismatch(ConnectionFailed):
    """Client and agent speak different protocol versions."""

    title = "Protocol mismatch"
    retryable = False


class HostUnreachable(ConnectionFailed):
    """Nothing answers at the host's address and port (refused, no route, unknown name)."""

    title = "Host unreachable"


class ConnectTimeout(ConnectionFailed):
    """The host did not complete the SSH handshake within connect_timeout."""

    title = "Connection timed out"


class AuthFailed(ConnectionFailed):
    """The SSH server refused every key we offered: retrying cannot help."""

    title = "Authentication failed"
    retryable = False


class HostKeyUnknown(ConnectionFailed):
    """The host's key is in no known_hosts file: a person must decide to trust it."""

    title = "Unknown host key"
    retryable = False

    def __init__(
        self,
        *,
        name: str,
        host: str,
        port: int,
        key_type: str,
        fingerprint: str,
        known_hosts_line: str,
        known_hosts_file: Path,
    ) -> None:
        self.name, self.host, self.port = name, host, port
        self.key_type, self.fingerprint = key_type, fingerprint
        self.known_hosts_line, self.known_hosts_file = known_hosts_line, known_hosts_file
        super().__init__(
            f"the host key of {host_and_port(host, port)} is not known: it offers "
            f"{key_type} {fingerprint}, which is in no known_hosts file ({known_hosts_file}). "
            f"If that is the host's key, trust it with `tfdash hosts trust {name}` (or the "
            f'dashboard\'s prompt), or set trust = "accept-new" under [hosts.{name}] in '
            f"config.toml to record new keys automatically"
        )


class HostKeyChanged(ConnectionFailed):
    """The host offers a key that differs from the one known_hosts records. Never retried."""

    title = "HOST KEY CHANGED"
    retryable = False

    def __init__(
        self,
        *,
        name: str,
        host: str,
        port: int,
        key_type: str,
        fingerprint: str,
        known_lines: Sequence[tuple[Path, int]],
    ) -> None:
        self.name, self.host, self.port = name, host, port
        self.key_type, self.fingerprint = key_type, fingerprint
        self.known_lines = list(known_lines)
        where = ", ".join(f"{path}:{line}" for path, line in self.known_lines) or "known_hosts"
        files = sorted({str(path) for path, _ in self.known_lines})
        forget = "; ".join(
            f"ssh-keygen -R {shlex.quote(host_and_port(host, port))} -f {shlex.quote(path)}"
            for path in files
        )
        super().__init__(
            f"WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for {host_and_port(host, port)} "
            f"({name})! It now offers {key_type} {fingerprint}, which differs from the key "
            f"recorded at {where}. Someone could be eavesdropping on you right now (a "
            "man-in-the-middle attack), or the host key was just replaced. tfdash refuses "
            "to connect. If the change is expected, remove the old key "
            f"({forget or 'edit the known_hosts file'}) and connect again"
        )


def host_and_port(host: str, port: int) -> str:
    """How known_hosts names a host: ``host`` on port 22, ``[host]:port`` otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


class RemotePythonMissing(ConnectionFailed):
    """The remote host has no usable Python to run the agent with."""

    title = "Remote Python missing"
    retryable = False


class RemotePythonTooOld(ConnectionFailed):
    """The remote Python is older than the agent supports (3.8)."""

    title = "Remote Python too old"
    retryable = False


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
