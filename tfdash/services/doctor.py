"""The doctor's checks that run on this machine (SSH and host key, agent, clock skew), and
the agent's own (``doctor.run``), shared by `tfdash doctor` and the dashboard's doctor.

Each check passes (ok True), fails (ok False, with a one-line fix) or does not apply
(ok None). Nothing here prints: the CLI and the screen show the checks their own way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tfdash.config import HostConfig
from tfdash.errors import (
    AgentError,
    AuthFailed,
    ConnectionFailed,
    ConnectTimeout,
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    ProtocolMismatch,
    RemotePythonMissing,
    RemotePythonTooOld,
    TfdashError,
)
from tfdash.models import HostInfo, HostState
from tfdash.transport.session import HostSession

MAX_CLOCK_SKEW_S = 5.0
DEFAULT_TIMEOUT_S = 60.0
# The agent's checks get their own timeout (TensorFlow's import) plus this margin.
CALL_MARGIN_S = 30.0
# Failures that happen after the SSH login: the agent did not start or speak our protocol.
_AGENT_FAILURES = (RemotePythonMissing, RemotePythonTooOld, ProtocolMismatch)


@dataclass(frozen=True)
class DoctorCheck:
    """One check's result: ``ok`` None means it does not apply (or was skipped)."""

    name: str
    ok: bool | None
    detail: str
    fix: str | None = None

    @classmethod
    def of(cls, name: str, ok: bool | None, detail: str, fix: str | None = None) -> DoctorCheck:
        """A check whose fix is kept only when it failed."""
        return cls(name, ok, detail, fix if ok is False else None)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> DoctorCheck:
        """One entry of the agent's ``doctor.run`` reply."""
        ok = data.get("ok")
        fix = data.get("fix")
        return cls.of(
            str(data.get("name", "?")),
            ok if isinstance(ok, bool) else None,
            str(data.get("detail", "")),
            str(fix) if fix else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix}


PasswordPrompt = Callable[[str], Awaitable[str | None]]


def no_ssh_check() -> DoctorCheck:
    return DoctorCheck.of("ssh", None, "the local host: no SSH")


async def login_check(host: HostConfig, prompt: PasswordPrompt | None) -> DoctorCheck:
    """Log in once (the dashboard's connect path): reachable, host key known, key accepted."""
    from tfdash.transport.ssh_connect import open_connection

    try:
        connection = await open_connection(host, prompt)
    except ConnectionFailed as failure:
        return ssh_failed(host.name, failure)
    key = connection.conn.get_server_host_key()
    await connection.close()
    fingerprint = f"{key.get_algorithm()} {key.get_fingerprint('sha256')}" if key else "?"
    return DoctorCheck.of(
        "ssh", True, f"{connection.target.describe()}, host key {fingerprint} trusted"
    )


def ssh_failed(name: str, failure: ConnectionFailed) -> DoctorCheck:
    return DoctorCheck.of(
        "ssh", False, f"{failure.title}: {failure.message}", ssh_fix(name, failure)
    )


def ssh_fix(name: str, failure: ConnectionFailed) -> str:
    """The one thing to do about an SSH failure."""
    if isinstance(failure, HostKeyUnknown):
        return f"tfdash hosts trust {name} (after comparing the fingerprint with the host's)"
    if isinstance(failure, HostKeyChanged):
        return "if the key change is expected, remove the old key (see above) and connect again"
    if isinstance(failure, AuthFailed):
        return f"check user and identity under [hosts.{name}]; install the key with ssh-copy-id"
    if isinstance(failure, HostUnreachable):
        return f"check host and port under [hosts.{name}], and that sshd runs there"
    if isinstance(failure, ConnectTimeout):
        return f"check the network (VPN, firewall), or raise connect_timeout in [hosts.{name}]"
    return "see the message above; `ssh` with the same host, port and user shows more"


def agent_passed(info: HostInfo) -> DoctorCheck:
    detail = f"agent {info.agent_version}, protocol {info.protocol_version}"
    return DoctorCheck.of("agent", True, f"{detail} on {info.hostname} as {info.user}")


def agent_failed(name: str, failure: ConnectionFailed) -> DoctorCheck:
    return DoctorCheck.of(
        "agent", False, f"{failure.title}: {failure.message}", agent_fix(name, failure)
    )


def agent_fix(name: str, failure: ConnectionFailed) -> str:
    if isinstance(failure, RemotePythonMissing | RemotePythonTooOld):
        return f"install Python >= 3.8 on the host, or set python = under [hosts.{name}]"
    if isinstance(failure, ProtocolMismatch):
        return "upgrade the side the message names (pip install -U tfdash)"
    return f"run `tfdash hosts check {name}` to see the bootstrap's steps"


def connection_checks(session: HostSession, *, over_ssh: bool) -> list[DoctorCheck]:
    """The ssh and agent rows from a dashboard session's state: no second connection.

    Connected: both pass (the login verified the host key). Failed: the failure goes to
    the row of the step that failed. Reconnecting: the last error is the ssh row's result.
    """
    status = session.status
    ssh = None if over_ssh else no_ssh_check()
    if status.state is HostState.CONNECTED and status.info is not None:
        if ssh is None:
            where = status.message.removeprefix("ssh ")
            ssh = DoctorCheck.of("ssh", True, f"connected: {where}, host key trusted")
        return [ssh, agent_passed(status.info)]
    failure = session.failure
    if failure is not None and (not over_ssh or isinstance(failure, _AGENT_FAILURES)):
        logged_in = DoctorCheck.of("ssh", True, "logged in; the agent did not start")
        return [ssh or logged_in, agent_failed(session.name, failure)]
    if failure is not None:
        return [ssh_failed(session.name, failure)]
    detail = f"{status.state.value}: {status.message or 'not connected'}"
    fix = f"check the host (r on the dashboard retries {session.name} now)"
    if ssh is not None:
        return [ssh, DoctorCheck.of("agent", False, detail, fix)]
    return [DoctorCheck.of("ssh", False, detail, fix)]


async def clock_check(session: HostSession) -> DoctorCheck:
    """The agent's ``ping`` time against the middle of the local call."""
    before = time.time()
    reply = await session.call("ping")
    after = time.time()
    skew = float(reply["time"]) - (before + after) / 2
    ahead = "ahead of" if skew >= 0 else "behind"
    detail = f"the host is {abs(skew):.2f} s {ahead} this machine (±{(after - before) / 2:.2f} s)"
    return DoctorCheck.of(
        "clock",
        abs(skew) <= MAX_CLOCK_SKEW_S,
        detail,
        "sync the clocks (timedatectl set-ntp true, or chrony) on both machines",
    )


async def host_checks(
    session: HostSession, timeout_s: float = DEFAULT_TIMEOUT_S, export_dir: str | None = None
) -> list[DoctorCheck]:
    """The agent's ``doctor.run``: Python, tmux, disks, TensorFlow, its GPUs, NVML."""
    params: dict[str, Any] = {"timeout_s": timeout_s}
    if export_dir:
        params["export_dir"] = export_dir
    try:
        reply = await session.call("doctor.run", params, timeout=timeout_s + CALL_MARGIN_S)
    except AgentError as error:
        return [
            DoctorCheck.of("host checks", False, error.message, "upgrade tfdash (and its agent)")
        ]
    except TfdashError as error:
        detail = f"{error.title}: {error.message}"
        return [DoctorCheck.of("host checks", False, detail, "run it again")]
    return [DoctorCheck.from_wire(entry) for entry in reply["checks"]]


async def session_doctor(
    session: HostSession,
    *,
    over_ssh: bool,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    export_dir: str | None = None,
) -> AsyncIterator[DoctorCheck]:
    """Every check over a dashboard's session, each as soon as it is known.

    A session still making its first connection is waited for; a host that is not
    connected then gets its connection rows only (nothing else can run).
    """
    await _first_connection_settled(session)
    rows = connection_checks(session, over_ssh=over_ssh)
    for row in rows:
        yield row
    if any(row.ok is False for row in rows):
        return
    yield await clock_check(session)
    for row in await host_checks(session, timeout_s, export_dir):
        yield row


async def _first_connection_settled(session: HostSession) -> None:
    """Return once ``session`` is past CONNECTING (connected, failed or reconnecting)."""
    changed = asyncio.Event()
    unsubscribe = session.subscribe_status(lambda _status: changed.set())
    try:
        while True:
            changed.clear()
            if session.status.state is not HostState.CONNECTING:
                return
            await changed.wait()
    finally:
        unsubscribe()


def summary(checks: Sequence[DoctorCheck]) -> str:
    """One line: how many passed, failed and did not apply."""
    passed = sum(c.ok is True for c in checks)
    failed = sum(c.ok is False for c in checks)
    skipped = sum(c.ok is None for c in checks)
    return f"{passed} passed, {failed} failed, {skipped} not applicable"
