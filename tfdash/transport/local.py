"""The agent as a local subprocess: ``python -m remote_agent serve`` over its pipes.

Used by ``tfdash demo``, the scriptable CLI on the local host and the tests. Closing the
channel only ends the agent: jobs run under their own detached supervisors.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from remote_agent import protocol
from tfdash.errors import ConnectionFailed
from tfdash.transport.base import StderrTail, Transport

EXIT_WAIT_S = 2.0

# The directory holding the remote_agent package, so the child can import it even when
# the tfdash checkout is not installed.
AGENT_IMPORT_ROOT = Path(protocol.__file__).resolve().parent.parent


class LocalChannel:
    """The pipes of one agent subprocess; a task keeps the last lines of its stderr."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        if process.stdin is None or process.stdout is None or process.stderr is None:
            raise ValueError("the agent process needs stdin, stdout and stderr pipes")
        self.reader: asyncio.StreamReader = process.stdout
        self.writer: asyncio.StreamWriter = process.stdin
        self._process = process
        self._stderr = StderrTail()
        self._stderr_task = asyncio.get_running_loop().create_task(
            self._stderr.drain(process.stderr.read), name=f"agent-stderr {process.pid}"
        )

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    def describe(self) -> str:
        return f"local agent pid {self._process.pid}"

    def stderr_tail(self) -> str:
        return self._stderr.text()

    async def close(self) -> None:
        """Close stdin (the agent exits on EOF); terminate, then kill, if it lingers."""
        if not self.writer.is_closing():
            self.writer.close()
        try:
            await asyncio.wait_for(self._process.wait(), EXIT_WAIT_S)
        except TimeoutError:
            self._signal_agent(terminate=True)
            try:
                await asyncio.wait_for(self._process.wait(), EXIT_WAIT_S)
            except TimeoutError:
                self._signal_agent(terminate=False)
                await self._process.wait()
        # stderr ends with the process unless something it started still holds the pipe.
        done, _ = await asyncio.wait([self._stderr_task], timeout=1.0)
        if not done:
            self._stderr_task.cancel()
        # asyncio closes a subprocess transport only once every pipe reached EOF; stdout
        # left unread (a reader that stopped mid-stream) would keep it open until the
        # loop is gone, and its __del__ then complains on stderr. Close it now.
        transport = getattr(self._process, "_transport", None)
        if isinstance(transport, asyncio.SubprocessTransport):
            transport.close()

    def _signal_agent(self, *, terminate: bool) -> None:
        """Signal the agent process only (never its group: jobs must survive)."""
        # ProcessLookupError: it exited between the wait and the signal.
        with contextlib.suppress(ProcessLookupError):
            if terminate:
                self._process.terminate()
            else:
                self._process.kill()


class LocalTransport(Transport):
    """Starts ``<python> -m remote_agent serve`` with TFDASH_HOME set when given."""

    name = "local"

    def __init__(
        self,
        *,
        tfdash_home: Path | None = None,
        python: str = sys.executable,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.tfdash_home = tfdash_home
        self.python = python
        self.env = dict(env or {})

    def agent_environment(self) -> dict[str, str]:
        """os.environ + TFDASH_HOME + the extra env, with remote_agent importable."""
        environment = dict(os.environ)
        if self.tfdash_home is not None:
            environment["TFDASH_HOME"] = str(self.tfdash_home)
        environment.update(self.env)
        existing = environment.get("PYTHONPATH")
        parts = [str(AGENT_IMPORT_ROOT)] + ([existing] if existing else [])
        environment["PYTHONPATH"] = os.pathsep.join(parts)
        return environment

    async def open(self) -> LocalChannel:
        try:
            process = await asyncio.create_subprocess_exec(
                self.python,
                "-m",
                "remote_agent",
                "serve",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self.agent_environment(),
                # Its own session: a Ctrl+C in the terminal reaches tfdash, which then
                # closes the agent cleanly instead of both dying mid-reply.
                start_new_session=True,
            )
        except FileNotFoundError:
            raise ConnectionFailed(
                f"cannot start the local agent: there is no Python interpreter at "
                f"{self.python!r}; point tfdash at an existing one (this tfdash runs on "
                f"{sys.executable})"
            ) from None
        except OSError as exc:
            raise ConnectionFailed(
                f"cannot start the local agent with {self.python!r}: {exc}"
            ) from exc
        return LocalChannel(process)
