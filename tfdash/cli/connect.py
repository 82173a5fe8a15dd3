"""How a CLI command reaches its host: a session to "local" or to an SSH host.

On a terminal the person is asked for key passphrases (getpass, never stored) and sees
the agent upload's progress on stderr; without one, encrypted keys need ssh-agent.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tfdash import paths
from tfdash.config import LOCAL_HOST, Config, load_config
from tfdash.transport.hosts import session_for
from tfdash.transport.session import HostSession
from tfdash.transport.ssh_hooks import SshHooks


async def ask_passphrase(prompt: str) -> str | None:
    """getpass on the controlling terminal, in a thread (it blocks); None on EOF."""
    try:
        return await asyncio.to_thread(getpass.getpass, prompt)
    except EOFError:
        return None


def show_upload_progress(host: str, sent: int, total: int) -> None:
    """One self-overwriting stderr line: "uploading the agent to gpu: 42%"."""
    percent = 100 * sent // total if total else 100
    end = "\n" if sent >= total else ""
    print(f"\ruploading the agent to {host}: {percent:3d}%", end=end, file=sys.stderr, flush=True)


def cli_hooks() -> SshHooks:
    """Prompts and progress only where a person is watching."""
    return SshHooks(
        passphrase=ask_passphrase if sys.stdin.isatty() else None,
        upload_progress=show_upload_progress if sys.stderr.isatty() else None,
    )


def host_config(name: str) -> Config:
    """The configuration, read only when a remote host is asked for."""
    return Config() if name == LOCAL_HOST else load_config()


def cli_session(name: str, args: argparse.Namespace) -> HostSession:
    """A (not started, not reconnecting) session to host ``name`` for one command, asking
    for passphrases on the terminal."""
    return session_for(
        name,
        host_config(name),
        local_home=paths.tfdash_home(args.home),
        hooks=cli_hooks(),
        reconnect=False,
    )


@asynccontextmanager
async def host_session(args: argparse.Namespace) -> AsyncIterator[HostSession]:
    """A session to ``--host`` for one command.

    The first connection fails fast with its precise error (exit 2); once connected, an
    SSH session reconnects after a drop, so `logs -f` survives a flaky network.
    """
    name = getattr(args, "host", LOCAL_HOST)
    session = cli_session(name, args)
    try:
        await session.start()
        session.reconnect = name != LOCAL_HOST
        yield session
    finally:
        await session.close()
