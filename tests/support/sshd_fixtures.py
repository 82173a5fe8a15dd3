"""Shared fixtures for tests that need real OpenSSH sshd's on loopback (ssh and ui tiers).

The sshd's log in as the unprivileged test user where the machine allows it. The client
gets a temporary HOME, no ssh-agent, private XDG dirs and a TFDASH_CONFIG of its own;
each server gets a TFDASH_HOME for the agent inside its own directory, owned by the
login user, and its jobs are killed when the test ends. Loaded by tests/conftest.py.
"""

from __future__ import annotations

import os
import pwd
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.isolation import kill_leftover_jobs
from support.ssh_client import ClientSide, ServerFactory, remote_home
from support.sshd import SSHD, SshServer, ensure_test_user, server_root

SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="session")
def login_user() -> str:
    """The unprivileged test user where we may create it, else whoever runs the tests."""
    if not Path(SSHD).exists() or not Path(SYSTEM_PYTHON).exists():
        pytest.skip(f"needs OpenSSH's sshd and {SYSTEM_PYTHON}")
    return ensure_test_user() or pwd.getpwuid(os.getuid()).pw_name


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClientSide:
    side = ClientSide(home=tmp_path / "client-home", config_path=tmp_path / "config.toml")
    side.ssh_dir.mkdir(parents=True, mode=0o700)
    for key, value in side.overrides().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return side


@pytest.fixture
def start_sshd(login_user: str) -> Iterator[ServerFactory]:
    """Starts sshd's (SshServer options as keywords); stops them and their agents' jobs."""
    servers: list[SshServer] = []

    def start(**options: Any) -> SshServer:
        server = SshServer(server_root(), user=login_user, **options)
        home = remote_home(server)
        home.mkdir(mode=0o700)
        shutil.chown(home, login_user, login_user)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
        kill_leftover_jobs(remote_home(server))
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def sshd(start_sshd: ServerFactory) -> SshServer:
    return start_sshd()
