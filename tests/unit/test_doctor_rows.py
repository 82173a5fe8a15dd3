"""The dashboard doctor's ssh and agent rows, made from a session's failure: the row of
the step that failed carries the failure and its fix (no second connection is made)."""

from __future__ import annotations

from tfdash.errors import AuthFailed, ConnectionFailed, RemotePythonTooOld
from tfdash.services.doctor import DoctorCheck, connection_checks
from tfdash.transport.base import Channel, Transport
from tfdash.transport.session import HostSession


class RefusingTransport(Transport):
    """A host whose every connection attempt ends in ``failure`` (not retryable)."""

    def __init__(self, failure: ConnectionFailed) -> None:
        self.name = "box"
        self.failure = failure

    async def open(self) -> Channel:
        raise self.failure


async def failed_session(failure: ConnectionFailed) -> HostSession:
    session = HostSession("box", RefusingTransport(failure))
    await session.start()  # not retryable: FAILED at once, nothing left running
    assert session.failure is failure
    return session


async def test_a_refused_login_is_the_ssh_rows_failure_with_its_fix() -> None:
    session = await failed_session(AuthFailed("ml@gpu:2222 refused every key offered"))
    assert connection_checks(session, over_ssh=True) == [
        DoctorCheck(
            "ssh",
            False,
            "Authentication failed: ml@gpu:2222 refused every key offered",
            "check user and identity under [hosts.box]; install the key with ssh-copy-id",
        )
    ]
    await session.close()


async def test_an_agent_that_cannot_start_fails_the_agent_row_after_a_good_login() -> None:
    too_old = RemotePythonTooOld("python3 on box is 3.6; the agent needs 3.8 or newer")
    session = await failed_session(too_old)
    ssh, agent = connection_checks(session, over_ssh=True)
    assert (ssh.ok, ssh.detail) == (True, "logged in; the agent did not start")
    assert agent.ok is False and agent.detail.endswith("the agent needs 3.8 or newer")
    assert agent.fix == "install Python >= 3.8 on the host, or set python = under [hosts.box]"
    local_ssh, _ = connection_checks(session, over_ssh=False)
    assert (local_ssh.ok, local_ssh.detail) == (None, "the local host: no SSH")
    await session.close()
