"""Host keys against a real sshd: unknown refused with its fingerprint, accept-new, changed."""

from __future__ import annotations

import asyncio

import asyncssh
import pytest
from support.ssh_client import (
    ClientSide,
    connections_logged,
    host_config,
    known_line,
    ssh_keygen_fingerprint,
)
from support.sshd import SshServer

from tfdash.config import TrustPolicy
from tfdash.errors import HostKeyChanged, HostKeyUnknown
from tfdash.models import HostState
from tfdash.transport.session import HostSession
from tfdash.transport.ssh import SshTransport
from tfdash.transport.ssh_connect import open_connection


def another_key_line(port: int) -> str:
    """A known_hosts line giving [127.0.0.1]:port some other ed25519 key."""
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().split()
    return f"[127.0.0.1]:{port} {other[0]} {other[1]}\n"


async def test_an_unknown_key_is_refused_with_its_fingerprint(
    client: ClientSide, sshd: SshServer
) -> None:
    with pytest.raises(HostKeyUnknown) as refused:
        await open_connection(host_config(sshd))
    error = refused.value
    fingerprint = ssh_keygen_fingerprint(sshd.root / "host_ed25519.pub")
    assert error.fingerprint == fingerprint
    assert error.key_type == "ssh-ed25519"
    assert (error.host, error.port) == ("127.0.0.1", sshd.port)
    assert error.known_hosts_line == known_line(sshd, sshd.port)
    assert error.known_hosts_file == client.known_hosts
    assert fingerprint in error.message
    assert "tfdash hosts trust box" in error.message
    assert 'trust = "accept-new"' in error.message
    assert not error.retryable
    assert not client.known_hosts.exists()  # refusing writes nothing


async def test_an_unknown_key_fails_the_session_without_retrying(
    client: ClientSide, sshd: SshServer
) -> None:
    session = HostSession("box", SshTransport(host_config(sshd)), backoff_initial=0.05)
    try:
        await session.start()
        assert session.status.state is HostState.FAILED
        assert ssh_keygen_fingerprint(sshd.root / "host_ed25519.pub") in session.status.message
        await asyncio.sleep(1.0)  # retries, had there been any, would have connected by now
        assert session.status.state is HostState.FAILED
        assert connections_logged(sshd) == 1
    finally:
        await session.close()


async def test_accept_new_records_the_key_and_later_connects_reuse_it(
    client: ClientSide, sshd: SshServer
) -> None:
    first = await open_connection(host_config(sshd, trust=TrustPolicy.ACCEPT_NEW))
    await first.close()
    assert client.known_hosts.read_text() == known_line(sshd, sshd.port)
    assert (client.known_hosts.stat().st_mode & 0o777) == 0o600
    again = await open_connection(host_config(sshd, trust=TrustPolicy.KNOWN_HOSTS))
    await again.close()
    assert client.known_hosts.read_text() == known_line(sshd, sshd.port)  # not added twice


async def test_a_changed_key_is_refused_even_under_accept_new_and_never_retried(
    client: ClientSide, sshd: SshServer
) -> None:
    client.known_hosts.write_text("# my hosts\n" + another_key_line(sshd.port))
    before = client.known_hosts.read_text()
    host = host_config(sshd, trust=TrustPolicy.ACCEPT_NEW)
    with pytest.raises(HostKeyChanged) as refused:
        await open_connection(host)
    error = refused.value
    assert error.known_lines == [(client.known_hosts, 2)]
    assert f"{client.known_hosts}:2" in error.message
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in error.message
    assert "man-in-the-middle" in error.message
    assert f"ssh-keygen -R '[127.0.0.1]:{sshd.port}'" in error.message
    assert error.fingerprint == ssh_keygen_fingerprint(sshd.root / "host_ed25519.pub")
    assert not error.retryable
    assert client.known_hosts.read_text() == before  # the old key stays until a person acts

    session = HostSession("box", SshTransport(host), backoff_initial=0.05)
    try:
        await session.start()
        assert session.status.state is HostState.FAILED
        assert "HAS CHANGED" in session.status.message
        await asyncio.sleep(1.0)
        assert session.status.state is HostState.FAILED
        assert connections_logged(sshd) == 2  # the open_connection above, and one attempt
    finally:
        await session.close()
