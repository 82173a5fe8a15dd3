"""`tfdash demo`: its pieces, its refusal without TensorFlow, and a real run inside tmux."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tfdash.models import LaunchMode
from tfdash.services.demo import demo_spec, find_example_script, tensorflow_available

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 120.0


def test_the_example_script_is_found_next_to_the_package() -> None:
    assert find_example_script() == REPO / "examples" / "keras_quickstart" / "train.py"


def test_the_demo_job_runs_this_interpreter_by_absolute_path(tmp_path: Path) -> None:
    script = tmp_path / "my dir" / "train.py"
    spec = demo_spec(script, tmp_path / "work", epochs=3)
    words = shlex.split(spec.command)
    assert words[0] == os.path.abspath(sys.executable)
    assert words[1:] == [
        "-u",
        str(script),
        "--epochs",
        "3",
        "--logdir",
        "logs",
        "--checkpoint-dir",
        "checkpoints",
    ]
    assert spec.name == "keras-quickstart"
    assert spec.cwd == str(tmp_path / "work")
    assert spec.mode is LaunchMode.AUTO
    assert spec.logdir == "logs"  # where train.py writes, so scalars are found there


@pytest.mark.tf
def test_tensorflow_is_looked_up_in_the_interpreter_asked_about(tmp_path: Path) -> None:
    assert tensorflow_available(sys.executable)
    # The same venv through another path string: answered by running it.
    assert tensorflow_available(str(Path(sys.executable).parent / ".." / "bin" / "python"))
    assert not tensorflow_available(str(tmp_path / "no-python"))
    bare = tmp_path / "bare-python"
    bare.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -S "$@"\n')
    bare.chmod(0o755)
    assert not tensorflow_available(str(bare))  # -S: no site-packages, no TensorFlow


def test_the_demo_says_how_to_get_tensorflow(cli_env: dict[str, str], tmp_path: Path) -> None:
    # -S hides site-packages (and with them TensorFlow) from the CLI's interpreter.
    result = subprocess.run(
        [sys.executable, "-S", "-m", "tfdash", "demo", "--home", str(tmp_path / "h")],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("tfdash: Usage: the demo trains with TensorFlow")
    assert "pip install -e '.[tf]'" in result.stderr
    assert "./dev.sh demo" in result.stderr
    assert not (tmp_path / "h").exists()  # nothing was started


def wait_until(condition: object, what: str) -> None:
    assert callable(condition)
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def running_jobs(home: Path) -> list[dict[str, object]]:
    states = []
    for path in home.glob("jobs/*/state.json"):
        try:
            states.append(json.loads(path.read_text()))
        except ValueError:
            continue  # being replaced right now
    return [state for state in states if state.get("state") == "running"]


@pytest.mark.tf
@pytest.mark.tmux
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
@pytest.mark.parametrize("keep", [False, True])
def test_the_demo_trains_shows_the_dashboard_and_cleans_up(
    cli_env: dict[str, str], home: Path, tmp_path: Path, keep: bool
) -> None:
    # `home` is the fixture's: its teardown kills the job the --keep case leaves running.
    done_file = tmp_path / "exit-code"
    demo = [sys.executable, "-m", "tfdash", "demo", "--home", str(home), "--epochs", "200"]
    demo += ["--keep"] if keep else []
    shell = f"{shlex.join(demo)}; echo $? > {shlex.quote(str(done_file))}"
    tmux = ["tmux", "-f", "/dev/null"]
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "120", "-y", "40", "-s", "demo", shell],
        env=cli_env,
        check=True,
    )
    subprocess.run(
        [*tmux, "set-option", "-t", "demo", "remain-on-exit", "on"], env=cli_env, check=True
    )
    wait_until(lambda: running_jobs(home), "the demo job to run")
    wait_until(lambda: list(home.glob("demo/logs/train/events.out.tfevents.*")), "event files")
    subprocess.run([*tmux, "send-keys", "-t", "demo", "q"], env=cli_env, check=True)
    wait_until(done_file.exists, "the demo to exit")
    screen = subprocess.run(
        [*tmux, "capture-pane", "-p", "-J", "-S", "-", "-t", "demo"],
        env=cli_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert done_file.read_text().strip() == "0", screen
    assert f"The demo's TFDASH_HOME is {home}" in screen
    [job_dir] = home.glob("jobs/*")
    state = json.loads((job_dir / "state.json").read_text())
    if keep:
        assert "keeps running" in screen
        assert state["state"] == "running"
    else:
        assert "Stopped the demo job keras-quickstart" in screen
        assert state["state"] == "stopped"
        # 143: it saved and exited on SIGTERM; 137: saving outlasted the 5 s grace (busy
        # machine) and the SIGKILL that follows the grace ended it.
        assert state["exit_code"] in (143, 137), screen
        assert (home / "demo" / "checkpoints").is_dir()
