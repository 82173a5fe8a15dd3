"""Reaching a real sshd: ssh-config aliases and ProxyJump, keys and passphrases, and the
distinct errors for a refused key, a closed port and a silent host."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from support.faultproxy import FaultProxy
from support.sessions import wait_for_state
from support.ssh_client import (
    ClientSide,
    ServerFactory,
    connections_logged,
    host_config,
    remote_home,
)
from support.sshd import SshServer, free_port, keygen

from tfdash.config import HostConfig
from tfdash.errors import AuthFailed, ConnectTimeout, HostUnreachable
from tfdash.models import HostState
from tfdash.transport.session import HostSession
from tfdash.transport.ssh import SshTransport
from tfdash.transport.ssh_connect import open_connection

PASSPHRASE = "correct horse battery staple"


async def test_an_ssh_config_alias_with_proxyjump_through_a_second_sshd(
    client: ClientSide, start_sshd: ServerFactory
) -> None:
    target, jump = start_sshd(), start_sshd()
    client.trust(target)
    client.trust(jump)
    client.write_ssh_config(
        f"Host trainer\n  HostName 127.0.0.1\n  Port {target.port}\n  User {target.user}\n"
        f"  IdentityFile {target.client_key}\n  ProxyJump hop\n\n"
        f"Host hop\n  HostName 127.0.0.1\n  Port {jump.port}\n  User {jump.user}\n"
        f"  IdentityFile {jump.client_key}\n"
    )
    # Only the alias: host, port, user, key and the jump all come from ~/.ssh/config.
    host = HostConfig(name="trainer", host="trainer", tfdash_home=str(remote_home(target)))
    session = HostSession("trainer", SshTransport(host), reconnect=False)
    try:
        await session.start()
        assert session.status.message == f"ssh {target.user}@127.0.0.1:{target.port}"
        assert session.info is not None and session.info.user == target.user
        assert (await session.call("ping"))["time"] > 0
    finally:
        await session.close()
    assert "Accepted publickey" in jump.log.read_text()
    assert "Accepted publickey" in target.log.read_text()


async def test_a_key_the_server_does_not_know_fails_without_retrying(
    client: ClientSide, sshd: SshServer, tmp_path: Path
) -> None:
    client.trust(sshd)
    stranger = keygen(tmp_path / "stranger")
    with pytest.raises(AuthFailed) as refused:
        await open_connection(host_config(sshd, identity=stranger))
    assert not refused.value.retryable
    assert str(stranger) in refused.value.message
    assert sshd.user in refused.value.message

    session = HostSession("box", SshTransport(host_config(sshd, identity=stranger)))
    try:
        await session.start()
        assert session.status.state is HostState.FAILED
        await asyncio.sleep(1.0)  # a retry would have happened by now (first one < 0.5 s)
        assert session.status.state is HostState.FAILED
        assert connections_logged(sshd) == 2
    finally:
        await session.close()


def encrypted_key(server: SshServer, directory: Path) -> Path:
    """A passphrase-protected key that ``server`` accepts."""
    key = keygen(directory / "locked_ed25519", passphrase=PASSPHRASE)
    with server.authorized_keys.open("a") as authorized:
        authorized.write(Path(f"{key}.pub").read_text())
    return key


@pytest.mark.parametrize("with_public_half", [True, False], ids=["with-pub", "without-pub"])
async def test_an_encrypted_key_is_unlocked_through_the_passphrase_hook(
    client: ClientSide, sshd: SshServer, tmp_path: Path, with_public_half: bool
) -> None:
    client.trust(sshd)
    key = encrypted_key(sshd, tmp_path)
    if not with_public_half:
        Path(f"{key}.pub").unlink()
    prompts: list[str] = []
    answers = iter(["not it", PASSPHRASE])

    async def passphrase(prompt: str) -> str | None:
        prompts.append(prompt)
        return next(answers)

    connection = await open_connection(host_config(sshd, identity=key), passphrase)
    await connection.close()
    assert prompts == [
        f"Enter passphrase for key '{key}': ",
        f"Bad passphrase, try again for key '{key}': ",
    ]


async def test_an_encrypted_key_without_a_prompt_is_named_in_the_auth_error(
    client: ClientSide, sshd: SshServer, tmp_path: Path
) -> None:
    client.trust(sshd)
    key = encrypted_key(sshd, tmp_path)
    with pytest.raises(AuthFailed) as refused:
        await open_connection(host_config(sshd, identity=key), None)
    assert f"encrypted keys were not used (no passphrase): {key}" in refused.value.message
    assert "ssh-add" in refused.value.message


async def test_the_default_keys_in_ssh_are_used_when_none_is_configured(
    client: ClientSide, sshd: SshServer
) -> None:
    client.trust(sshd)
    shutil.copy(sshd.client_key, client.ssh_dir / "id_ed25519")
    connection = await open_connection(host_config(sshd, identity=None))
    await connection.close()


async def test_nothing_listening_is_host_unreachable_and_worth_retrying(
    client: ClientSide,
) -> None:
    port = free_port()
    host = HostConfig(name="nobody", host="127.0.0.1", port=port, user="nobody")
    with pytest.raises(HostUnreachable) as unreachable:
        await open_connection(host)
    assert f"127.0.0.1:{port}" in unreachable.value.message
    assert unreachable.value.retryable


async def test_a_silent_host_is_a_timeout_within_connect_timeout(
    client: ClientSide, sshd: SshServer
) -> None:
    client.trust(sshd)
    proxy = FaultProxy("127.0.0.1", sshd.port).start()
    try:
        proxy.freeze()
        client.trust(sshd, port=proxy.port)
        host = host_config(sshd, port=proxy.port, connect_timeout=1.0)
        with pytest.raises(ConnectTimeout) as timed_out:
            await asyncio.wait_for(open_connection(host), 30)
        assert "within 1 s" in timed_out.value.message
        assert timed_out.value.retryable
    finally:
        proxy.close()


async def test_keepalive_notices_a_frozen_link_and_the_session_comes_back(
    client: ClientSide, sshd: SshServer
) -> None:
    proxy = FaultProxy("127.0.0.1", sshd.port).start()
    client.trust(sshd, port=proxy.port)
    # Pings every minute: only SSH keepalive can notice the freeze within the bound.
    host = host_config(sshd, port=proxy.port)
    session = HostSession("box", SshTransport(host), ping_interval=60.0, backoff_initial=0.2)
    try:
        await session.start()
        assert session.status.state is HostState.CONNECTED
        proxy.freeze()
        await wait_for_state(session, HostState.RECONNECTING, timeout=10.0)
        assert "keepalive" in session.status.message
        proxy.thaw()
        await wait_for_state(session, HostState.CONNECTED, timeout=30.0)
        assert (await session.call("ping"))["time"] > 0
    finally:
        await session.close()
        proxy.close()
