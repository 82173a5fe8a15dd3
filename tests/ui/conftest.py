"""Fixtures of the UI tests: a real local agent under a temporary TFDASH_HOME and tmux,
and for the SSH hosts real OpenSSH sshd's on loopback (as in tests/ssh/conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.isolation import kill_leftover_jobs
from support.ssh_client import ClientSide
from textual.pilot import Pilot
from ui.ssh_dashboard import record_notifications

from tfdash.app import TfdashApp, make_app
from tfdash.transport.manager import local_manager

WaitFor = Callable[..., Awaitable[None]]

# Generous: a busy CI machine may take seconds to start an agent or a job.
WAIT_TIMEOUT_S = 60.0


@pytest.fixture
def tmux_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private tmux server for the test (agents inherit TMUX_TMPDIR); killed afterwards."""
    directory = tmp_path / "tmux"
    directory.mkdir()
    monkeypatch.setenv("TMUX_TMPDIR", str(directory))
    yield directory
    if shutil.which("tmux"):
        subprocess.run(
            ["tmux", "kill-server"],
            env={**os.environ, "TMUX_TMPDIR": str(directory)},
            capture_output=True,
            check=False,
        )


@pytest.fixture
def tfdash_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tmux_tmpdir: Path
) -> Iterator[Path]:
    """TFDASH_HOME of the test's local agent, and an empty HOME for its jobs.

    Jobs run under `bash -lc`, which reads the login files of $HOME; the real ones may do
    slow or shared things (e.g. `pyenv init` rehashes under a machine-wide lock). An empty
    HOME keeps the jobs quick and isolated, and is their default working directory.
    """
    user_home = tmp_path / "user-home"
    user_home.mkdir()
    monkeypatch.setenv("HOME", str(user_home))
    home = tmp_path / "tfdash-home"
    monkeypatch.setenv("TFDASH_HOME", str(home))
    yield home
    kill_leftover_jobs(home)  # a failed test never stopped its job


@pytest.fixture
def app(tfdash_home: Path) -> TfdashApp:
    """The dashboard over a real local agent, built like the CLI builds it."""
    return make_app(local_manager(tfdash_home))


@pytest.fixture
def notifications(app: TfdashApp, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every notification the app shows: message, title and severity."""
    return record_notifications(app, monkeypatch)


async def _wait_for(
    pilot: Pilot[Any],
    condition: Callable[[], object],
    what: str,
    timeout: float = WAIT_TIMEOUT_S,
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what}")
        await pilot.pause(0.05)


@pytest.fixture
def wait_for() -> WaitFor:
    """``await wait_for(pilot, condition, "what")``: let the app run until condition()."""
    return _wait_for


@pytest.fixture
def client(client: ClientSide, tmux_tmpdir: Path) -> ClientSide:
    """The shared SSH client side (support.sshd_fixtures), after the tmux isolation."""
    return client
