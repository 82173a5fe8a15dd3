"""`a` Attach in a real terminal: the dashboard runs inside a tmux of the test's own, hands
the terminal to a job's tmux session (over OpenSSH to the test sshd, or directly for the
local host), and after Ctrl-b d is back with the same job highlighted."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.isolation import kill_leftover_jobs, kill_tmux_server
from support.ssh_client import ClientSide
from support.sshd import SshServer
from ui.ssh_dashboard import host_entry

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]

WAIT_S = 60.0
OUTER = "dash"
SIZE = ("-x", "120", "-y", "36")
MARKER = "attach-marker-4711"


class OuterTmux:
    """The terminal the person sits at: a tmux server of this test running the dashboard."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-f", "/dev/null", *args],
            env={**os.environ, **self.env},
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def start(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        """Start the server with ``env`` (what the dashboard gets), running ``command``."""
        shell = f"cd {shlex.quote(str(cwd))} && {shlex.join(command)}"
        server_env = {k: v for k, v in env.items() if k not in ("TMUX", "TMUX_PANE")}
        subprocess.run(
            ["tmux", "-f", "/dev/null", "new-session", "-d", *SIZE, "-s", OUTER, shell],
            env={**server_env, **self.env},
            check=True,
        )
        self.tmux("set-option", "-t", OUTER, "remain-on-exit", "on")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", OUTER)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", OUTER, *keys)

    def wait_for(self, seen: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + WAIT_S
        while True:
            screen = self.screen()
            if seen(screen):
                return screen
            assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{screen}"
            time.sleep(0.2)


@pytest.fixture
def outer(tmp_path: Path) -> Iterator[OuterTmux]:
    tmux_dir = tmp_path / "outer-tmux"
    tmux_dir.mkdir()
    terminal = OuterTmux({"TMUX_TMPDIR": str(tmux_dir), "TERM": "xterm-256color"})
    yield terminal
    kill_tmux_server(terminal.env)


def tfdash(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tfdash", *args],
        env=env,
        cwd=str(cwd),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def launch_pair(env: dict[str, str], cwd: Path, host: str) -> str:
    """A nohup job, then the tmux job to attach to (so the cursor must move to it)."""
    tfdash(env, cwd, "--host", host, "run", "--nohup", "--name", "other", "--", "sleep", "120")
    # One word: `tfdash run` joins the words after -- into the shell command.
    command = f"echo {MARKER}; sleep 120"
    launched = tfdash(
        env, cwd, "--host", host, "run", "--tmux", "--json", "--name", "attach-me", "--", command
    )
    job_id: str = json.loads(launched)["id"]
    return job_id


def attach_and_detach(outer: OuterTmux, env: dict[str, str], cwd: Path) -> None:
    """Start the dashboard, highlight attach-me, attach, see the job, detach, come back."""
    outer.start([sys.executable, "-m", "tfdash"], cwd, env)
    outer.wait_for(lambda s: "attach-me" in s and "other" in s, "both jobs in the table")
    for _ in range(6):
        if "Log · attach-me" in outer.screen():
            break
        outer.keys("Down")
        time.sleep(0.3)
    outer.wait_for(lambda s: "Log · attach-me" in s, "attach-me highlighted")
    outer.keys("a")
    # The job's pane, with tmux's status line naming its session; no dashboard.
    attached = outer.wait_for(lambda s: MARKER in s and "Attach" not in s, "the job's session")
    assert "[tfdash-" in attached
    outer.keys("C-b", "d")
    back = outer.wait_for(lambda s: "Log · attach-me" in s and "Attach" in s, "the dashboard")
    assert "Attach ended" not in back  # the attach exited 0: no failure notification


def test_attach_over_ssh_and_detach_back_to_the_dashboard(
    client: ClientSide, sshd: SshServer, outer: OuterTmux
) -> None:
    client.trust(sshd)
    client.write_tfdash_config(host_entry("box", sshd))
    env = client.environment()
    launch_pair(env, client.home, "box")
    attach_and_detach(outer, env, client.home)


def test_attach_on_the_local_host(tmp_path: Path, outer: OuterTmux) -> None:
    home = tmp_path / "tfdash-home"
    user_home = tmp_path / "user-home"
    jobs_tmux = tmp_path / "jobs-tmux"
    user_home.mkdir()
    jobs_tmux.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")},
        "HOME": str(user_home),
        "TFDASH_HOME": str(home),
        "TFDASH_CONFIG": str(tmp_path / "config.toml"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        # The job's tmux server is not the terminal's: the recorded socket finds it.
        "TMUX_TMPDIR": str(jobs_tmux),
    }
    try:
        launch_pair(env, tmp_path, "local")
        attach_and_detach(outer, env, tmp_path)
    finally:
        kill_leftover_jobs(home)
        kill_tmux_server({"TMUX_TMPDIR": str(jobs_tmux)})
