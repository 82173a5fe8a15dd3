"""Attaching a person's terminal to a job: which behaviour a job gets, and the command.

A running tmux-mode job is attached to: `tmux attach` of its session, run directly for
the local host and through the person's own OpenSSH client for an SSH host, with the
port, user, identity, known_hosts and ProxyJump the dashboard itself uses. Any other job
(nohup mode, or ended: its tmux session is gone) gets a full-screen follow of its log.
The argv builders are pure functions, so every field can be tested without a terminal.
"""

from __future__ import annotations

import enum
import math
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tfdash.config import HostConfig, TrustPolicy
from tfdash.errors import TfdashError
from tfdash.models import Job
from tfdash.transport.session import HostSession

if TYPE_CHECKING:  # asyncssh comes with it: imported only to attach over SSH
    from tfdash.transport.hostkeys import KnownHostsFiles

# The variables that make tmux think it runs inside another tmux (the dashboard may).
TMUX_NESTING_VARIABLES = ("TMUX", "TMUX_PANE")
# OpenSSH's exit status for its own failures (connection, authentication, host key).
SSH_FAILED = 255
# A shell's status for a command it cannot find (tmux not installed there).
COMMAND_NOT_FOUND = 127


class AttachKind(enum.StrEnum):
    """What `a` does for a job."""

    TERMINAL = "terminal"
    """Suspend the dashboard and attach the terminal to the job's tmux session."""
    LOG = "log"
    """Follow the job's log full-screen."""


class AttachUnavailable(TfdashError):
    """The program an attach needs (ssh, tmux) is not installed here."""

    exit_code = 2


def attach_kind(job: Job) -> AttachKind:
    """TERMINAL for a tmux-mode job still running (its session exists), else LOG."""
    if job.mode == "tmux" and job.tmux_session and job.state.is_active:
        return AttachKind.TERMINAL
    return AttachKind.LOG


def tmux_attach_argv(job: Job, tmux: str = "tmux") -> list[str]:
    """`tmux [-S SOCKET] attach-session -t SESSION`: the job's own tmux server when the
    agent recorded its socket, else the default one (jobs launched before it did)."""
    if not job.tmux_session:
        raise ValueError(f"job {job.id} has no tmux session (mode {job.mode})")
    socket = ["-S", job.tmux_socket] if job.tmux_socket else []
    return [tmux, *socket, "attach-session", "-t", job.tmux_session]


def ssh_attach_argv(
    host: HostConfig,
    remote: Sequence[str],
    *,
    port: int,
    known_hosts: KnownHostsFiles,
    ssh: str = "ssh",
    ssh_config: Path | None = None,
) -> list[str]:
    """OpenSSH's argv that runs ``remote`` on ``host`` in a terminal, trusting exactly the
    host keys the dashboard trusts. ``port`` is the one the dashboard resolved (config.toml,
    else the ssh config, else 2222); ``ssh_config`` the file the dashboard read, if any."""
    argv = [ssh, "-t"]
    if ssh_config is not None:
        argv += ["-F", str(ssh_config)]
    argv += ["-p", str(port)]
    if host.user:
        argv += ["-l", host.user]
    if host.identity is not None:
        argv += ["-i", str(host.identity), "-o", "IdentitiesOnly=yes"]
    files = " ".join(_ssh_option_word(str(path)) for path in known_hosts.check)
    strict = "accept-new" if host.trust is TrustPolicy.ACCEPT_NEW else "yes"
    argv += [
        "-o",
        f"UserKnownHostsFile={files}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        f"StrictHostKeyChecking={strict}",
        "-o",
        f"ConnectTimeout={max(1, math.ceil(host.connect_timeout))}",
    ]
    if host.proxy_jump:
        argv += ["-J", host.proxy_jump]
    return [*argv, "--", host.host, shlex.join(remote)]


def _ssh_option_word(path: str) -> str:
    """A file name as one word of an ssh -o value (OpenSSH splits them at spaces)."""
    return f'"{path}"' if any(c.isspace() for c in path) else path


@dataclass(frozen=True)
class AttachCommand:
    """What runs in the person's terminal while the dashboard is suspended."""

    argv: list[str]
    env: dict[str, str]
    host: str
    remote: bool
    """True: through ssh (exit status 255 is ssh's own failure)."""

    def describe(self) -> str:
        return shlex.join(self.argv)


def local_attach(job: Job, environ: Mapping[str, str] | None = None) -> AttachCommand:
    """Attach to a job of the local host: tmux directly, outside any enclosing tmux."""
    tmux = shutil.which("tmux")
    if tmux is None:
        raise AttachUnavailable(
            "tmux is not installed here: install it (e.g. apt-get install tmux)", "tmux not found"
        )
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if k not in TMUX_NESTING_VARIABLES}
    return AttachCommand(tmux_attach_argv(job, tmux), env, host="local", remote=False)


async def ssh_attach(host: HostConfig, job: Job) -> AttachCommand:
    """Attach to a job of an SSH host through OpenSSH, resolved as the dashboard resolves
    the host (~/.ssh/config, config.toml)."""
    from tfdash.transport.ssh_connect import resolve_host  # asyncssh: only when needed

    ssh = shutil.which("ssh")
    if ssh is None:
        raise AttachUnavailable(
            "ssh is not on PATH: install OpenSSH's client (e.g. apt-get install "
            "openssh-client) to attach to jobs on SSH hosts",
            "ssh not found",
        )
    target = await resolve_host(host)
    config = Path("~", ".ssh", "config").expanduser()
    argv = ssh_attach_argv(
        host,
        tmux_attach_argv(job),
        port=target.port,
        known_hosts=target.known_hosts,
        ssh=ssh,
        ssh_config=config if config.is_file() else None,
    )
    return AttachCommand(argv, dict(os.environ), host=host.name, remote=True)


async def attach_command(session: HostSession, job: Job) -> AttachCommand:
    """The attach to ``job`` on ``session``'s host: local tmux, or ssh with its HostConfig."""
    from tfdash.transport.ssh import SshTransport  # asyncssh: only for an SSH host

    if isinstance(session.transport, SshTransport):
        return await ssh_attach(session.transport.host, job)
    return local_attach(job)


def run_attach(command: AttachCommand) -> int:
    """Run the attach in this terminal until the person detaches; its exit status."""
    return subprocess.run(command.argv, env=command.env, check=False).returncode


def attach_failure(command: AttachCommand, code: int) -> str:
    """What to tell the person when the attach exited with ``code`` (not 0)."""
    said = f"`{command.describe()}` exited with {code}: "
    if command.remote and code == SSH_FAILED:
        return said + (
            f"ssh could not connect or log in to {command.host}; run that command in a "
            f"shell to see why, or `tfdash doctor {command.host}`"
        )
    if code == COMMAND_NOT_FOUND:
        return said + f"tmux is not installed on {command.host}"
    return said + "the job's tmux session is gone (has the job ended?): press a again for its log"
