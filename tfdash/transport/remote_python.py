"""Finding the remote Python and what bootstrap needs to know, in one round trip.

One command runs a tiny probe script with the configured interpreter, or with the first
``python3``/``python`` on the login shell's PATH. It prints the interpreter's
``sys.executable`` (not its realpath: a virtualenv's python must stay the virtualenv's),
its version, the expanded ``TFDASH_HOME`` and whether this agent build is already there.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

import asyncssh

from tfdash.errors import ConnectionFailed, RemotePythonMissing, RemotePythonTooOld

MINIMUM_PYTHON = (3, 8)
PROBE_TIMEOUT_S = 30.0
PROBE_MARKER = "TFDASH-PROBE "
# Exit codes of a shell that could not find (127) or not execute (126) a command.
NOT_FOUND_EXIT_CODES = (126, 127)
# Python 2 syntax too, so an ancient interpreter reports its version instead of failing.
# It prints one line: PROBE_MARKER and a JSON object.
PROBE_SCRIPT = (
    "import json, os, sys\n"
    "home = os.path.abspath(os.path.expanduser(sys.argv[1]))\n"
    "sys.stdout.write('TFDASH-PROBE ' + json.dumps({\n"
    "    'executable': sys.executable,\n"
    "    'version': list(sys.version_info[:3]),\n"
    "    'home': home,\n"
    "    'agent': os.path.isfile(os.path.join(home, sys.argv[2])),\n"
    "}) + '\\n')\n"
)
# Tries python3 then python on the PATH of the user's login shell; "$@" is the probe.
SEARCH_SCRIPT = (
    'for name in python3 python; do path=$(command -v "$name") && exec "$path" "$@"; done; '
    'echo "neither python3 nor python is on the PATH" >&2; exit 127'
)


class ProbeFailed(ConnectionFailed):
    """The interpreter started but did not print the probe's answer."""


@dataclass(frozen=True)
class RemotePython:
    """What the probe found on the remote host."""

    executable: str
    version: tuple[int, int, int]
    tfdash_home: str
    """TFDASH_HOME with ``~`` expanded, absolute."""
    agent_present: bool

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)


def shell_word(path: str) -> str:
    """Quote ``path`` for a POSIX shell, keeping a leading ``~/`` expandable."""
    if path.startswith("~/"):
        return "~/" + shlex.quote(path[2:])
    return shlex.quote(path)


def probe_command(python: str | None, tfdash_home: str, agent_relative_path: str) -> str:
    """The shell command that runs the probe with ``python`` (or the one found on PATH)."""
    probe_args = ["-c", PROBE_SCRIPT, tfdash_home, agent_relative_path]
    if python is not None:
        return " ".join([shell_word(python), *(shlex.quote(a) for a in probe_args)])
    return shlex.join(["sh", "-c", SEARCH_SCRIPT, "tfdash-probe", *probe_args])


async def probe_python(
    conn: asyncssh.SSHClientConnection,
    *,
    python: str | None,
    tfdash_home: str,
    agent_relative_path: str,
    host: str,
) -> RemotePython:
    """Run the probe; raise RemotePythonMissing / RemotePythonTooOld naming ``host``."""
    command = probe_command(python, tfdash_home, agent_relative_path)
    try:
        result = await conn.run(command, check=False, timeout=PROBE_TIMEOUT_S)
    except TimeoutError as exc:  # asyncssh.TimeoutError is one too
        raise ConnectionFailed(
            f"{host}: the remote shell did not answer in {PROBE_TIMEOUT_S:.0f} s (does a "
            f"login script wait for input?)"
        ) from exc
    stdout = _text(result.stdout)
    stderr = _text(result.stderr).strip()
    if result.exit_status in NOT_FOUND_EXIT_CODES:
        raise _missing(host, python, stderr)
    found = parse_probe_output(stdout)
    if found is None:
        detail = stderr.splitlines()[-1] if stderr else f"exit status {result.exit_status}"
        raise ProbeFailed(
            f"{host}: running {python or 'python3'} failed ({detail}); set python = "
            f'"/path/to/python3" for this host in config.toml'
        )
    if found.version[:2] < MINIMUM_PYTHON:
        raise RemotePythonTooOld(
            f"{host}: {_describe(python, found.executable)} is Python {found.version_text}; "
            f"the agent needs Python >= 3.8: install a newer python3 there, or set python = "
            f'"/path/to/python3.8+" for this host in config.toml'
        )
    if not found.executable.startswith("/"):
        raise ProbeFailed(
            f"{host}: {python or 'python3'} does not know its own path (sys.executable is "
            f'empty): set python = "/absolute/path/to/python3" for this host in config.toml'
        )
    return found


def _describe(configured: str | None, executable: str) -> str:
    """The interpreter as the person named it, and where it really ran if that differs."""
    if configured is None or configured == executable:
        return executable or "python3"
    return f"{configured} ({executable})" if executable else configured


def _missing(host: str, python: str | None, stderr: str) -> RemotePythonMissing:
    if python is None:
        return RemotePythonMissing(
            f'no python3 on {host}: install python3 >= 3.8 or set python = "/path" for '
            f"this host in config.toml"
        )
    reason = stderr.splitlines()[-1] if stderr else "not found"
    return RemotePythonMissing(
        f"no python at {python} on {host} ({reason}): install python3 >= 3.8 or set "
        f'python = "/path" for this host in config.toml'
    )


def parse_probe_output(stdout: str) -> RemotePython | None:
    """The probe's line; login scripts may print other lines around it."""
    for line in reversed(stdout.splitlines()):
        if not line.startswith(PROBE_MARKER):
            continue
        try:
            data = json.loads(line[len(PROBE_MARKER) :])
            major, minor, micro = (int(part) for part in data["version"])
            return RemotePython(
                executable=str(data["executable"]),
                version=(major, minor, micro),
                tfdash_home=str(data["home"]),
                agent_present=bool(data["agent"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
    return None


def _text(output: str | bytes | None) -> str:
    if output is None:
        return ""
    if isinstance(output, bytes):
        return output.decode("utf-8", errors="replace")
    return output
