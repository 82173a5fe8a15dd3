"""What every tier needs to run jobs without touching the machine or each other."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """A private tmux server (TMUX_TMPDIR) and an empty HOME for the agent and its jobs.

    The empty HOME keeps `bash -l` off this machine's dotfiles: root's .bashrc runs
    `pyenv rehash`, whose lock a killed job can leave behind, stalling every later job.
    """
    tmux_dir = tmp_path / "tmux"
    user_home = tmp_path / "user-home"
    tmux_dir.mkdir(exist_ok=True)
    user_home.mkdir(exist_ok=True)
    return {"TMUX_TMPDIR": str(tmux_dir), "HOME": str(user_home)}


def kill_tmux_server(env: dict[str, str]) -> None:
    if shutil.which("tmux"):
        subprocess.run(
            ["tmux", "kill-server"],
            env={**os.environ, **env},
            stderr=subprocess.DEVNULL,
            check=False,
        )


def kill_leftover_jobs(home: Path) -> None:
    """Kill what a test left running under ``home`` (process group and supervisor)."""
    for state_file in home.glob("jobs/*/state.json"):
        with contextlib.suppress(OSError, ValueError):
            state: dict[str, Any] = json.loads(state_file.read_text() or "{}")
            if state.get("state") in ("starting", "running"):
                for kill, target in ((os.killpg, "pgid"), (os.kill, "supervisor_pid")):
                    pid = state.get(target)
                    if isinstance(pid, int) and pid > 1:
                        with contextlib.suppress(ProcessLookupError, PermissionError):
                            kill(pid, signal.SIGKILL)
