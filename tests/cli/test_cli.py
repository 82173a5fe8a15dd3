"""The real `tfdash` command (python -m tfdash) against a real local agent."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tfdash.services.jobs import default_job_name

RunCli = Callable[..., subprocess.CompletedProcess[str]]
SpawnCli = Callable[..., "subprocess.Popen[Any]"]
PYTHON = shlex.quote(sys.executable)  # bash -l resets PATH: name the interpreter fully
ISSUE_FIELDS = ("id", "name", "state", "mode", "pid", "exit_code", "cwd", "started_at", "ended_at")


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr}"
    assert result.stderr == ""
    return result.stdout


def launch(tfdash: RunCli, *args: str) -> str:
    """`tfdash run ARGS`; returns the printed job id."""
    job_id = ok(tfdash("run", *args)).strip()
    assert job_id and "\n" not in job_id
    return job_id


def jobs_json(tfdash: RunCli, *args: str) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = json.loads(ok(tfdash("jobs", "--json", *args)))
    return jobs


def output_of(tfdash: RunCli, job_id: str) -> str:
    """The whole output of a job, once it has ended (`logs -f` returns then)."""
    return ok(tfdash("logs", "-f", job_id))


def test_run_prints_the_id_and_jobs_lists_it(tfdash: RunCli, tmp_path: Path) -> None:
    job_id = launch(tfdash, "--nohup", "--name", "sleeper", "--", "sleep", "30")
    [job] = jobs_json(tfdash)
    assert all(field in job for field in ISSUE_FIELDS)
    assert job["id"] == job_id
    assert job["name"] == "sleeper"
    assert job["state"] == "running"
    assert job["mode"] == "nohup"
    assert isinstance(job["pid"], int)
    assert job["exit_code"] is None
    assert job["cwd"] == str(tmp_path)  # the directory tfdash ran in
    assert isinstance(job["started_at"], float)
    assert job["ended_at"] is None
    header, row = ok(tfdash("jobs")).splitlines()
    assert header.split() == ["ID", "NAME", "STATE", "MODE", "PID", "EXIT", "STARTED", "RUNTIME"]
    assert row.split()[:6] == [job_id, "sleeper", "running", "nohup", str(job["pid"]), "-"]


def test_words_after_the_dashes_are_joined_like_ssh(tfdash: RunCli, tmp_path: Path) -> None:
    (tmp_path / "show_args.py").write_text("import json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    plain = launch(tfdash, "--nohup", "--", PYTHON, "show_args.py", "--epochs", "5")
    assert json.loads(output_of(tfdash, plain)) == ["--epochs", "5"]
    quoted = launch(tfdash, "--nohup", "--", PYTHON, "show_args.py", "'a  b'", "c")
    assert json.loads(output_of(tfdash, quoted)) == ["a  b", "c"]
    chained = launch(tfdash, "--nohup", "--", "echo first && echo second")
    assert output_of(tfdash, chained) == "first\nsecond\n"
    names = {job["id"]: job["name"] for job in jobs_json(tfdash)}
    assert names[plain] == "show_args"
    assert names[chained] == "echo"


def test_run_takes_cwd_env_logdir_and_json(tfdash: RunCli, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    out = ok(
        tfdash(
            "run",
            "--nohup",
            "--json",
            "--cwd",
            "work",
            "--env",
            "LR=0.1",
            "--env",
            "X=a=b",
            "--logdir",
            "tb",
            "--",
            "pwd; echo $LR $X",
        )
    )
    job = json.loads(out)
    assert job["cwd"] == str(workdir)
    assert job["env"] == {"LR": "0.1", "X": "a=b"}
    assert job["logdir"] == "tb"
    assert output_of(tfdash, job["id"]) == f"{workdir}\n0.1 a=b\n"


def test_stop_waits_and_prints_the_end(tfdash: RunCli) -> None:
    job_id = launch(tfdash, "--nohup", "--name", "victim", "--", "sleep", "30")
    assert ok(tfdash("stop", "victim", "--grace", "5")) == f"{job_id} stopped (exit 143)\n"
    [job] = jobs_json(tfdash)
    assert job["state"] == "stopped"
    assert job["exit_code"] == 143


def test_logs_follow_ends_by_itself_with_every_line(tfdash: RunCli) -> None:
    job_id = launch(tfdash, "--nohup", "--", "for i in $(seq 1 300); do echo line $i; done")
    expected = "".join(f"line {n}\n" for n in range(1, 301))
    assert ok(tfdash("logs", "-f", job_id, timeout=120)) == expected
    assert ok(tfdash("logs", job_id[:8])) == expected  # an id prefix works too


def test_logs_tail_starts_with_the_last_lines(tfdash: RunCli) -> None:
    job_id = launch(tfdash, "--nohup", "--", "seq -f 'line %g' 1 100")
    output_of(tfdash, job_id)
    assert ok(tfdash("logs", "--tail", "3", job_id)) == "line 98\nline 99\nline 100\n"
    assert ok(tfdash("logs", "-f", "--tail", "2", job_id)) == "line 99\nline 100\n"
    assert ok(tfdash("logs", "--tail", "0", job_id)) == ""


def test_exit_codes_of_usage_errors_and_failed_operations(tfdash: RunCli) -> None:
    unknown = tfdash("stop", "ghost")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("tfdash: Usage: no job 'ghost'")

    running = launch(tfdash, "--nohup", "--", "sleep", "30")
    refused = tfdash("rm", running)
    assert refused.returncode == 1
    assert refused.stderr.startswith("tfdash: Conflict: ")
    assert running in refused.stderr

    ended = launch(tfdash, "--nohup", "--", "true")
    output_of(tfdash, ended)
    assert ok(tfdash("rm", ended)) == f"removed {ended}\n"
    assert [job["id"] for job in jobs_json(tfdash)] == [running]

    for bad in (["run"], ["run", "--"], ["run", "--env", "NOEQUALS", "--", "true"]):
        result = tfdash(*bad)
        assert result.returncode == 2, bad
        assert result.stderr.startswith("tfdash: Usage: "), bad
    invalid = tfdash("run", "--nohup", "--cwd", "/no/such/dir", "--", "true")
    assert invalid.returncode == 2
    assert "/no/such/dir" in invalid.stderr


def test_home_option_before_or_after_the_command(tfdash: RunCli, tmp_path: Path) -> None:
    other = tmp_path / "other-home"
    job_id = launch(tfdash, "--home", str(other), "--nohup", "--", "true")
    assert [job["id"] for job in jobs_json(tfdash, "--home", str(other))] == [job_id]
    listed = json.loads(ok(tfdash("--home", str(other), "jobs", "--json")))
    assert [job["id"] for job in listed] == [job_id]
    assert jobs_json(tfdash) == []  # TFDASH_HOME from the environment is untouched
    assert (other / "jobs" / job_id).is_dir()


def test_tmux_mode_runs_the_job_in_its_own_session(tfdash: RunCli, cli_env: dict[str, str]) -> None:
    job_id = launch(tfdash, "--tmux", "--name", "in-tmux", "--", "sleep", "30")
    [job] = jobs_json(tfdash)
    assert job["mode"] == "tmux"
    assert job["tmux_session"] == f"tfdash-{job_id}"
    has = subprocess.run(
        ["tmux", "has-session", "-t", job["tmux_session"]], env=cli_env, check=False
    )
    assert has.returncode == 0
    assert ok(tfdash("stop", job_id)).startswith(f"{job_id} stopped")


def test_ctrl_c_ends_logs_follow_quietly_with_130(
    spawn_tfdash: SpawnCli, tfdash: RunCli, tmp_path: Path
) -> None:
    job_id = launch(tfdash, "--nohup", "--", "echo started; sleep 30")
    follower = spawn_tfdash("logs", "-f", job_id, text=True)
    try:
        assert follower.stdout is not None
        assert follower.stdout.readline() == "started\n"
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=30) == 130
        assert follower.stderr is not None
        assert follower.stderr.read() == ""
    finally:
        if follower.poll() is None:
            follower.kill()
    assert jobs_json(tfdash)[0]["state"] == "running"  # the job is not the CLI's to end


def test_scriptable_commands_do_not_import_textual(cli_env: dict[str, str]) -> None:
    probe = "import sys, tfdash.cli; print(sorted(m for m in sys.modules if 'textual' in m))"
    result = subprocess.run(
        [sys.executable, "-c", probe], env=cli_env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_python_dash_m_tfdash_is_the_cli(tfdash: RunCli) -> None:
    result = tfdash("--help")
    assert result.returncode == 0
    for command in ("demo", "jobs", "run", "stop", "logs", "rm"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("python train.py --epochs 5", "train"),
        ("python3 -u /data/jobs/train_big.py", "train_big"),
        ("/opt/venv/bin/python3.11 -m pkg.fit", "pkg.fit"),
        ("/usr/bin/env bash ./go.sh", "go"),
        ("CUDA_VISIBLE_DEVICES=0 env python ./run.sh", "run"),
        ("python a.py && python b.py", "a"),
        ("torchrun --nproc 2 fit.py", "torchrun"),
        ("python", "job"),
        ("x" * 300, "x" * 128),
    ],
)
def test_default_job_names(command: str, name: str) -> None:
    assert default_job_name(command) == name
