"""Fixtures for the CLI tier: the real `tfdash` command in subprocesses, one home per test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.isolation import isolated_env, kill_leftover_jobs, kill_tmux_server

REPO = Path(__file__).resolve().parents[2]
RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "tfdash-home"


@pytest.fixture
def cli_env(tmp_path: Path, home: Path) -> Iterator[dict[str, str]]:
    """TFDASH_HOME, a private tmux server and an empty HOME (no dotfiles for `bash -l`)."""
    env = {
        **os.environ,
        **isolated_env(tmp_path),
        "TFDASH_HOME": str(home),
        "PYTHONPATH": str(REPO),
    }
    yield env
    kill_leftover_jobs(home)
    kill_tmux_server(env)


@pytest.fixture
def tfdash(cli_env: dict[str, str], tmp_path: Path) -> RunCli:
    """Runs ``python -m tfdash ARGS...`` and returns the finished process (text output)."""

    def run(*args: str, timeout: float = 60.0, cwd: Path | None = None) -> Any:
        return subprocess.run(
            [sys.executable, "-m", "tfdash", *args],
            env=cli_env,
            cwd=str(cwd or tmp_path),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


SpawnCli = Callable[..., "subprocess.Popen[Any]"]


@pytest.fixture
def spawn_tfdash(cli_env: dict[str, str], tmp_path: Path) -> SpawnCli:
    """Starts ``python -m tfdash ARGS...`` with piped stdout and stderr (bytes unless text)."""

    def spawn(*args: str, text: bool = False) -> subprocess.Popen[Any]:
        return subprocess.Popen(
            [sys.executable, "-m", "tfdash", *args],
            env=cli_env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=text,
        )

    return spawn
