"""Fixtures for the bootstrap tests: real sshd servers, logins as the unprivileged test user.

Loaded by tests/conftest.py. The names carry a ``bootstrap_``
prefix (or say what they are) so they never clash with tests/ssh/conftest.py's fixtures.
"""

from __future__ import annotations

import pwd
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncssh
import pytest

from support.ssh_bootstrap import connect, start_server
from support.sshd import SshServer, server_root
from tfdash.transport.python_cache import PythonCache


@pytest.fixture(scope="module")
def bootstrap_sshd() -> Iterator[SshServer]:
    yield from start_server()


@pytest.fixture(scope="module")
def bootstrap_sshd_without_sftp() -> Iterator[SshServer]:
    yield from start_server(sftp=False)


@pytest.fixture(scope="module")
def bootstrap_sshd_without_python() -> Iterator[SshServer]:
    """Logins whose PATH holds only ``sh``: neither python3 nor python can be found."""
    root = server_root()
    root.chmod(0o711)  # the login user must reach bin/ below it
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "sh").symlink_to("/bin/sh")
    bin_dir.chmod(0o755)
    yield from start_server(extra_config=f"SetEnv PATH={bin_dir}\n")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def bootstrap_conn(bootstrap_sshd: SshServer) -> AsyncIterator[asyncssh.SSHClientConnection]:
    async with await connect(bootstrap_sshd) as connection:
        yield connection


@pytest.fixture
def login_home(bootstrap_sshd: SshServer) -> Path:
    """The login user's home directory (the sshd runs on this machine)."""
    return Path(pwd.getpwnam(bootstrap_sshd.user).pw_dir)


@pytest.fixture
def remote_tfdash_home(login_home: Path) -> Iterator[str]:
    """A fresh TFDASH_HOME under the login user's home, as ``~/…``; removed afterwards."""
    name = f".tfdash-bootstrap-{uuid.uuid4().hex[:12]}"
    yield f"~/{name}"
    shutil.rmtree(login_home / name, ignore_errors=True)


@pytest.fixture
def bootstrap_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PythonCache:
    """A private python cache; XDG_CACHE_HOME moved too, so the real one is never touched."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return PythonCache(tmp_path / "hosts.json")
