"""Helpers for the bootstrap tests: sshd servers, connections, and the agent's hello."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import asyncssh
import pytest

from support.sshd import SSHD, SshServer, ensure_test_user, server_root
from tfdash.transport.bootstrap import AgentCommand, ensure_agent
from tfdash.transport.python_cache import PythonCache

SYSTEM_PYTHON = "/usr/bin/python3"
HELLO = {"jsonrpc": "2.0", "id": 1, "method": "hello", "params": {"protocol": 1}}
needs_sshd = pytest.mark.skipif(
    not Path(SSHD).exists() or not Path(SYSTEM_PYTHON).exists(),
    reason=f"needs OpenSSH sshd and {SYSTEM_PYTHON}",
)


def login_user() -> str:
    """The unprivileged test user where we may create it, else whoever runs the tests."""
    return ensure_test_user() or pwd.getpwuid(os.getuid()).pw_name


def start_server(**options: Any) -> Iterator[SshServer]:
    server = SshServer(server_root(), user=login_user(), **options).start()
    (server.root / "known_hosts").write_text(server.known_hosts_line())
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


async def connect(server: SshServer) -> asyncssh.SSHClientConnection:
    """A connection as the server's login user, trusting only its host key."""
    return await asyncssh.connect(
        "127.0.0.1",
        server.port,
        username=server.user,
        client_keys=[str(server.client_key)],
        known_hosts=str(server.root / "known_hosts"),
        agent_path=None,
        config=None,
    )


async def bootstrap(
    conn: asyncssh.SSHClientConnection | RecordingConnection,
    tfdash_home: str,
    cache: PythonCache,
    **options: Any,
) -> AgentCommand:
    """ensure_agent with the test's home and cache; ``options`` override the rest."""
    arguments: dict[str, Any] = {"python": None, "cache_key": "test-host", **options}
    return await ensure_agent(
        cast(asyncssh.SSHClientConnection, conn),
        tfdash_home=tfdash_home,
        python_cache=cache,
        **arguments,
    )


class RecordingConnection:
    """Passes calls to a connection and records every remote command and SFTP session."""

    def __init__(self, conn: asyncssh.SSHClientConnection) -> None:
        self.conn = conn
        self.commands: list[str] = []

    async def run(self, command: str, **options: Any) -> asyncssh.SSHCompletedProcess:
        self.commands.append(command)
        return await self.conn.run(command, **options)

    def create_process(self, command: str, **options: Any) -> Any:
        self.commands.append(command)
        return self.conn.create_process(command, **options)

    def start_sftp_client(self, **options: Any) -> Any:
        self.commands.append("<sftp>")
        return self.conn.start_sftp_client(**options)


async def hello_over(conn: asyncssh.SSHClientConnection, command: AgentCommand) -> dict[str, Any]:
    """Start the agent with ``command`` on an exec channel and return its hello result."""
    async with conn.create_process(command.command) as process:
        process.stdin.write(json.dumps(HELLO) + "\n")
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        process.stdin.write_eof()
        stderr = await asyncio.wait_for(process.stderr.read(), 30)
    assert line, f"the agent said nothing; stderr: {stderr}"
    result: dict[str, Any] = json.loads(line)["result"]
    return result
