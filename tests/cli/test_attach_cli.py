"""`tfdash attach JOB`: a nohup job's log is followed; a tmux job execs tmux attach."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable

import pytest

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def test_attach_to_a_nohup_job_follows_its_log_to_the_end(tfdash: RunCli) -> None:
    job_id = tfdash("run", "--nohup", "--", "echo one; sleep 1; echo two").stdout.strip()
    done = tfdash("attach", job_id)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "one\ntwo\n"
    assert f"job {job_id} runs in nohup mode: no tmux session to attach to" in done.stderr


@pytest.mark.tmux
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_attach_to_a_tmux_job_becomes_tmux_attach(tfdash: RunCli) -> None:
    job_id = tfdash("run", "--tmux", "--", "sleep 60").stdout.strip()
    # No terminal here: the tmux it became says so (the real terminal: tests/ui).
    done = tfdash("attach", job_id)
    assert done.returncode == 1
    assert "not a terminal" in done.stderr
    assert tfdash("stop", "--grace", "1", job_id).returncode == 0
