"""The agent over SSH: connect (asyncssh), bootstrap it, run it on an exec channel.

The channel reads the agent's stdout in 64 KiB chunks (``async for`` over asyncssh
streams is 20x slower, FACTS.md) and turns asyncssh's own exceptions into
ConnectionError, which is what the RPC layer treats as a lost link.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
from collections.abc import Awaitable, Callable

import asyncssh

from tfdash.config import HostConfig
from tfdash.errors import ConnectionFailed
from tfdash.transport.base import StderrTail, Transport
from tfdash.transport.bootstrap import AgentCommand, ensure_agent
from tfdash.transport.ssh_connect import SshConnection, open_connection
from tfdash.transport.ssh_hooks import SshHooks

logger = logging.getLogger(__name__)

READ_CHUNK_BYTES = 64 * 1024
EXIT_WAIT_S = 2.0

AgentStarter = Callable[[asyncssh.SSHClientConnection, HostConfig, str], Awaitable[list[str]]]
"""(connection, host, "user@host:port") -> the argv that starts the agent there."""


class SshStdoutReader:
    """The agent's stdout; asyncssh errors become ConnectionError (a lost link)."""

    def __init__(self, stream: asyncssh.SSHReader[bytes]) -> None:
        self._stream = stream

    async def read(self, n: int = -1) -> bytes:
        try:
            return await self._stream.read(n)
        except asyncssh.Error as exc:
            raise ConnectionResetError(f"the SSH connection was lost: {exc}") from exc


class SshStdinWriter:
    """The agent's stdin; asyncssh errors become ConnectionError."""

    def __init__(self, stream: asyncssh.SSHWriter[bytes]) -> None:
        self._stream = stream

    def write(self, data: bytes) -> None:
        try:
            self._stream.write(data)
        except asyncssh.Error as exc:
            raise ConnectionResetError(f"the SSH connection was lost: {exc}") from exc

    async def drain(self) -> None:
        try:
            await self._stream.drain()
        except asyncssh.Error as exc:
            raise ConnectionResetError(f"the SSH connection was lost: {exc}") from exc

    def close(self) -> None:
        """Send EOF: the agent exits when its stdin ends."""
        try:
            self._stream.write_eof()
        except (OSError, asyncssh.Error) as exc:
            logger.debug("could not send EOF to the agent: %s", exc)


class SshChannel:
    """The agent's exec channel on one SSH connection (closing it closes the connection)."""

    def __init__(
        self, connection: SshConnection, process: asyncssh.SSHClientProcess[bytes]
    ) -> None:
        self.reader = SshStdoutReader(process.stdout)
        self.writer = SshStdinWriter(process.stdin)
        self.connection = connection
        self._process = process
        self._stderr = StderrTail()
        self._stderr_task = asyncio.get_running_loop().create_task(
            self._drain_stderr(process.stderr), name=f"ssh-stderr {self.describe()}"
        )

    def describe(self) -> str:
        return f"ssh {self.connection.target.describe()}"

    def stderr_tail(self) -> str:
        return self._stderr.text()

    async def close(self) -> None:
        """EOF to the agent, a moment for it to exit, then close the connection."""
        self.writer.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._process.wait_closed(), EXIT_WAIT_S)
        self._process.close()
        await self.connection.close()
        done, _ = await asyncio.wait([self._stderr_task], timeout=EXIT_WAIT_S)
        if not done:
            self._stderr_task.cancel()

    async def _drain_stderr(self, stderr: asyncssh.SSHReader[bytes]) -> None:
        try:
            await self._stderr.drain(stderr.read)
        except asyncssh.Error as exc:
            logger.debug("%s: stderr ended with %s", self.describe(), exc)


class SshTransport(Transport):
    """Reaches ``host`` over SSH, bootstraps the agent there and starts it."""

    def __init__(
        self,
        host: HostConfig,
        *,
        hooks: SshHooks | None = None,
        start_agent: AgentStarter | None = None,
    ) -> None:
        self.host = host
        self.name = host.name
        self.hooks = hooks or SshHooks()
        self._start_agent = start_agent or self._bootstrap
        self.last_bootstrap: AgentCommand | None = None
        """What the last bootstrap did (uploaded?, which python, how long), for `hosts check`."""

    async def open(self) -> SshChannel:
        connection = await open_connection(self.host, self.hooks.passphrase)
        try:
            argv = await self._start_agent(connection.conn, self.host, connection.target.describe())
            process = await connection.conn.create_process(shlex.join(argv), encoding=None)
        except BaseException as exc:
            await connection.close()
            if isinstance(exc, asyncssh.Error | OSError):
                raise ConnectionFailed(
                    f"{connection.target.describe()}: cannot start the agent: {exc}"
                ) from exc
            raise
        return SshChannel(connection, process)

    async def _bootstrap(
        self, conn: asyncssh.SSHClientConnection, host: HostConfig, where: str
    ) -> list[str]:
        """The zero-install bootstrap: upload the agent once, say how to start it."""
        report = self.hooks.upload_progress

        def progress(sent: int, total: int) -> None:
            if report is not None:
                report(host.name, sent, total)

        command = await ensure_agent(
            conn,
            python=host.python,
            tfdash_home=host.tfdash_home,
            cache_key=where,
            progress=progress,
            host_label=f"{host.name} ({where})",
        )
        self.last_bootstrap = command
        return command.argv


__all__ = ["AgentStarter", "SshChannel", "SshHooks", "SshTransport"]
