"""The agent runs on Python 3.8, the Python of TensorFlow 2.9 to 2.13 images.

vermin checks the syntax and standard-library use statically; where a Python 3.8
interpreter exists on this machine, the agent is also started with it for real.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.agent import AgentProcess

from remote_agent import protocol

REPO = Path(__file__).resolve().parents[2]
# vermin's console script, run with this interpreter (the package has no __main__).
VERMIN = "import sys, vermin; sys.exit(vermin.main())"


def run_vermin(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", VERMIN, "--target=3.8-", "--violations", "--no-tips", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_agent_source_needs_nothing_newer_than_python_38() -> None:
    result = run_vermin(REPO / "remote_agent")
    assert result.returncode == 0, f"remote_agent needs a newer Python than 3.8:\n{result.stdout}"
    assert "Minimum required versions: 3.8" in result.stdout, result.stdout


def test_vermin_flags_a_python_39_feature(tmp_path: Path) -> None:
    """The check above can fail: a 3.9-only call is reported."""
    (tmp_path / "newer.py").write_text('print("v1.2".removeprefix("v"))\n')
    result = run_vermin(tmp_path)
    assert result.returncode != 0
    assert "removeprefix" in result.stdout


def find_python38() -> str | None:
    """A working Python 3.8 interpreter: on PATH, or one pyenv installed."""
    candidates = [shutil.which("python3.8") or ""]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.8*/bin/python3.8")))
    candidates += sorted(glob.glob("/root/.pyenv/versions/3.8*/bin/python3.8"))
    candidates += ["/usr/bin/python3.8", "/usr/local/bin/python3.8"]
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        # A pyenv shim exists on PATH even when that version is not selected: run it.
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 8))"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return candidate
    return None


@pytest.fixture
def python38() -> str:
    python = find_python38()
    if python is None:
        pytest.skip("no Python 3.8 interpreter here (python3.8 on PATH or ~/.pyenv/versions/3.8*)")
    return python


@pytest.fixture
def agent38(python38: str, tmp_path: Path) -> Iterator[AgentProcess]:
    # HOME keeps the job's `bash -lc` off the developer's shell start-up files (pyenv's
    # rehash there waits up to 60 s for a lock another shell may have left behind).
    env = {"TMUX_TMPDIR": str(tmp_path), "HOME": str(tmp_path)}
    agent = AgentProcess(tmp_path / "home", env, python=python38)
    yield agent
    agent.close()


def test_agent_answers_hello_on_python_38(agent38: AgentProcess) -> None:
    hello = agent38.call("hello", {"protocol": protocol.PROTOCOL_VERSION})
    assert hello["python"]["version"].startswith("3.8."), hello["python"]
    assert hello["protocol_version"] == protocol.PROTOCOL_VERSION


def test_a_job_runs_under_a_python_38_agent(agent38: AgentProcess, tmp_path: Path) -> None:
    """Launching exercises the supervisor, which runs with the agent's interpreter."""
    agent38.call("hello", {"protocol": protocol.PROTOCOL_VERSION})
    job = agent38.call(
        "jobs.launch",
        {"name": "py38", "command": "echo hello from 3.8", "cwd": str(tmp_path), "mode": "nohup"},
    )
    ended = agent38.wait_final(job["id"], timeout=120)
    assert ended["state"] == protocol.STATE_SUCCEEDED, ended
    assert ended["exit_code"] == 0
    assert agent38.read_log(job["id"]) == "hello from 3.8\n"
