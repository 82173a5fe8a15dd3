"""Putting the agent on a real sshd: upload once, reuse after, SFTP or exec, never half-done."""

from __future__ import annotations

import asyncio
import os
import pwd
import stat
from pathlib import Path

import asyncssh
import pytest
from support.ssh_bootstrap import (
    SYSTEM_PYTHON,
    RecordingConnection,
    bootstrap,
    connect,
    hello_over,
    needs_sshd,
)
from support.sshd import SshServer

from tfdash.transport.agent_archive import build_archive
from tfdash.transport.python_cache import PythonCache

pytestmark = needs_sshd


def expanded(login_home: Path, tfdash_home: str) -> Path:
    return login_home / tfdash_home.removeprefix("~/")


async def test_first_connect_uploads_and_the_agent_answers_hello(
    bootstrap_conn: asyncssh.SSHClientConnection,
    remote_tfdash_home: str,
    login_home: Path,
    bootstrap_cache: PythonCache,
) -> None:
    archive = build_archive()
    progress: list[tuple[int, int]] = []
    command = await bootstrap(
        bootstrap_conn,
        remote_tfdash_home,
        bootstrap_cache,
        progress=lambda sent, total: progress.append((sent, total)),
    )
    home = expanded(login_home, remote_tfdash_home)
    uploaded = home / archive.relative_path
    assert command.uploaded
    assert (command.tfdash_home, command.archive_path) == (str(home), str(uploaded))
    assert command.argv == ["env", f"TFDASH_HOME={home}", SYSTEM_PYTHON, str(uploaded), "serve"]
    assert uploaded.read_bytes() == archive.data
    assert stat.S_IMODE(uploaded.stat().st_mode) == 0o600
    assert stat.S_IMODE(uploaded.parent.stat().st_mode) == 0o700
    assert uploaded.stat().st_uid == pwd.getpwnam(bootstrap_conn.get_extra_info("username")).pw_uid
    assert os.listdir(uploaded.parent) == ["agent.pyz"]  # no temp file left
    assert progress[0] == (0, len(archive.data))
    assert progress[-1] == (len(archive.data), len(archive.data))
    assert [sent for sent, _ in progress] == sorted(sent for sent, _ in progress)

    hello = await hello_over(bootstrap_conn, command)
    assert hello["agent_version"] == archive.version
    assert hello["tfdash_home"] == str(home)
    assert hello["python"]["executable"] == SYSTEM_PYTHON


async def test_second_connect_reuses_the_upload(
    bootstrap_sshd: SshServer,
    remote_tfdash_home: str,
    login_home: Path,
    bootstrap_cache: PythonCache,
) -> None:
    async with await connect(bootstrap_sshd) as first:
        before = await bootstrap(first, remote_tfdash_home, bootstrap_cache)
    written_at = Path(before.archive_path).stat().st_mtime_ns
    progress: list[tuple[int, int]] = []
    async with await connect(bootstrap_sshd) as second:
        recorder = RecordingConnection(second)
        after = await bootstrap(
            recorder,
            remote_tfdash_home,
            bootstrap_cache,
            progress=lambda sent, total: progress.append((sent, total)),
        )
        assert (await hello_over(second, after))["agent_version"] == build_archive().version
    assert (before.uploaded, after.uploaded) == (True, False)
    assert after.argv == before.argv
    assert progress == []
    assert len(recorder.commands) == 1  # the probe, and nothing else
    assert Path(before.archive_path).stat().st_mtime_ns == written_at


async def test_the_default_home_needs_no_environment(
    bootstrap_conn: asyncssh.SSHClientConnection, login_home: Path, bootstrap_cache: PythonCache
) -> None:
    """The default ~/.tfdash: the agent finds it by itself, so argv carries no env."""
    command = await bootstrap(bootstrap_conn, "~/.tfdash", bootstrap_cache)
    expected = login_home / ".tfdash" / build_archive().relative_path
    assert command.argv == [SYSTEM_PYTHON, str(expected), "serve"]
    assert stat.S_IMODE(expected.stat().st_mode) == 0o600
    hello = await hello_over(bootstrap_conn, command)
    assert hello["tfdash_home"] == str(login_home / ".tfdash")


async def test_without_sftp_the_archive_streams_over_exec(
    bootstrap_sshd_without_sftp: SshServer,
    remote_tfdash_home: str,
    login_home: Path,
    bootstrap_cache: PythonCache,
) -> None:
    archive = build_archive()
    progress: list[tuple[int, int]] = []
    async with await connect(bootstrap_sshd_without_sftp) as connection:
        with pytest.raises(asyncssh.ChannelOpenError):
            await connection.start_sftp_client()
        command = await bootstrap(
            connection,
            remote_tfdash_home,
            bootstrap_cache,
            progress=lambda sent, total: progress.append((sent, total)),
        )
        again = await bootstrap(connection, remote_tfdash_home, bootstrap_cache)
        hello = await hello_over(connection, command)
    uploaded = expanded(login_home, remote_tfdash_home) / archive.relative_path
    assert (command.uploaded, again.uploaded) == (True, False)
    assert command.archive_path == str(uploaded)
    assert uploaded.read_bytes() == archive.data
    assert stat.S_IMODE(uploaded.stat().st_mode) == 0o600
    assert stat.S_IMODE(uploaded.parent.stat().st_mode) == 0o700
    assert os.listdir(uploaded.parent) == ["agent.pyz"]
    assert progress[-1] == (len(archive.data), len(archive.data))
    assert hello["agent_version"] == archive.version


@pytest.mark.parametrize("server", ["bootstrap_sshd", "bootstrap_sshd_without_sftp"])
async def test_concurrent_bootstraps_of_one_host_do_not_collide(
    server: str,
    request: pytest.FixtureRequest,
    remote_tfdash_home: str,
    bootstrap_cache: PythonCache,
) -> None:
    """Two laptops bootstrapping the same host at once: both work, one intact file."""
    sshd: SshServer = request.getfixturevalue(server)
    async with await connect(sshd) as one, await connect(sshd) as two:
        commands = await asyncio.gather(
            bootstrap(one, remote_tfdash_home, bootstrap_cache, cache_key="laptop-1"),
            bootstrap(two, remote_tfdash_home, bootstrap_cache, cache_key="laptop-2"),
        )
        hellos = [await hello_over(c, cmd) for c, cmd in zip((one, two), commands, strict=True)]
    assert commands[0].archive_path == commands[1].archive_path
    uploaded = Path(commands[0].archive_path)
    assert uploaded.read_bytes() == build_archive().data
    assert os.listdir(uploaded.parent) == ["agent.pyz"]
    assert [hello["agent_version"] for hello in hellos] == [build_archive().version] * 2


@pytest.mark.parametrize("server", ["bootstrap_sshd", "bootstrap_sshd_without_sftp"])
async def test_an_interrupted_upload_leaves_no_agent_behind(
    server: str,
    request: pytest.FixtureRequest,
    remote_tfdash_home: str,
    login_home: Path,
    bootstrap_cache: PythonCache,
) -> None:
    class LinkDropped(Exception):
        """Stands for the link failing between two chunks of the upload."""

    def drop_after_first_chunk(sent: int, total: int) -> None:
        if 0 < sent < total:
            raise LinkDropped

    sshd: SshServer = request.getfixturevalue(server)
    directory = expanded(login_home, remote_tfdash_home) / build_archive().directory
    async with await connect(sshd) as connection:
        with pytest.raises(LinkDropped):
            await bootstrap(
                connection, remote_tfdash_home, bootstrap_cache, progress=drop_after_first_chunk
            )
        assert not directory.exists() or os.listdir(directory) == []
        retried = await bootstrap(connection, remote_tfdash_home, bootstrap_cache)
        hello = await hello_over(connection, retried)
    assert retried.uploaded
    assert hello["agent_version"] == build_archive().version
