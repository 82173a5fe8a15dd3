"""Detached jobs for real: nohup and tmux, exit codes, stop, lost, idempotent launch."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.agent import AgentProcess

from remote_agent import protocol

MODES = ["nohup", "tmux"]


def live_members(pgid: int) -> list[int]:
    """Pids in process group ``pgid`` that are not zombies (a zombie still answers kill 0)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat_line = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat_line[stat_line.rfind(")") + 2 :].split()
            if int(fields[2]) == pgid and fields[0] not in "ZX":
                members.append(int(entry.name))
    return members


def launch(agent: AgentProcess, command: str, **params: object) -> dict[str, object]:
    spec = {"name": "t", "command": command, "mode": "nohup", **params}
    job: dict[str, object] = agent.call("jobs.launch", spec)
    return job


@pytest.mark.parametrize("mode", MODES)
def test_a_job_runs_to_success_and_its_output_is_logged(agent: AgentProcess, mode: str) -> None:
    job = launch(agent, "echo hello; echo to-stderr >&2; echo bye", mode=mode)
    assert job["state"] in ("running", "succeeded")
    assert job["mode"] == mode
    assert isinstance(job["pid"], int)
    done = agent.wait_final(str(job["id"]))
    assert done["state"] == "succeeded"
    assert done["exit_code"] == 0
    assert done["ended_at"] >= done["started_at"] >= done["created_at"]
    assert agent.read_log(str(job["id"])) == "hello\nto-stderr\nbye\n"


@pytest.mark.parametrize("mode", MODES)
def test_a_failing_command_records_its_exit_code(agent: AgentProcess, mode: str) -> None:
    job = launch(agent, "echo about to fail; exit 3", mode=mode)
    done = agent.wait_final(str(job["id"]))
    assert done["state"] == "failed"
    assert done["exit_code"] == 3
    assert done["signal"] is None


def test_tmux_jobs_run_in_a_session_a_person_can_attach_to(
    agent: AgentProcess, tmux_env: dict[str, str]
) -> None:
    job = launch(agent, "echo in-tmux; sleep 30", mode="tmux")
    assert job["tmux_session"] == f"tfdash-{job['id']}"
    env = {**os.environ, **tmux_env}
    has = subprocess.run(
        ["tmux", "has-session", "-t", str(job["tmux_session"])], env=env, check=False
    )
    assert has.returncode == 0
    # The pane shows the job's output too.
    deadline = time.monotonic() + 10
    while True:
        pane = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", str(job["tmux_session"])],
            env=env,
            check=False,
            capture_output=True,
            text=True,
        ).stdout
        if "in-tmux" in pane or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert "in-tmux" in pane
    agent.call("jobs.stop", {"id": job["id"], "grace_s": 2})
    assert agent.wait_final(str(job["id"]))["state"] == "stopped"


def test_auto_mode_picks_tmux_when_it_is_installed(agent: AgentProcess) -> None:
    job = launch(agent, "true", mode="auto")
    assert job["mode"] == "tmux"


def test_the_job_gets_cwd_env_gpus_and_unbuffered_python(
    agent: AgentProcess, tmp_path: Path
) -> None:
    workdir = tmp_path / "work dir"
    workdir.mkdir()
    job = launch(
        agent,
        'pwd; echo "lr=$LR"; echo "gpus=$CUDA_VISIBLE_DEVICES"; echo "unbuf=$PYTHONUNBUFFERED";'
        ' echo "id=$TFDASH_JOB_ID"',
        cwd=str(workdir),
        env={"LR": "0.1 with spaces"},
        gpus=[0, 2],
    )
    agent.wait_final(str(job["id"]))
    lines = agent.read_log(str(job["id"])).splitlines()
    assert lines == [
        str(workdir),
        "lr=0.1 with spaces",
        "gpus=0,2",
        "unbuf=1",
        f"id={job['id']}",
    ]
    assert job["gpus"] == "0,2"


def test_stop_sends_sigterm_to_the_whole_group(agent: AgentProcess) -> None:
    job = launch(agent, "sleep 60 & sleep 60; wait")
    agent.wait_for(str(job["id"]), lambda j: j["state"] == "running")
    stopped = agent.call("jobs.stop", {"id": job["id"], "grace_s": 10})
    assert stopped["stop_requested_at"] is not None
    done = agent.wait_final(str(job["id"]))
    assert done["state"] == "stopped"
    assert done["exit_code"] == 128 + signal.SIGTERM
    assert done["signal"] == "SIGTERM"
    assert not live_members(int(done["pgid"]))


def test_a_job_that_ignores_sigterm_is_killed_after_the_grace(agent: AgentProcess) -> None:
    job = launch(agent, "trap 'echo got TERM' TERM; echo ready; while true; do sleep 0.1; done")
    ready = agent.call("logs.read", {"id": job["id"], "wait_s": 20})
    assert ready["text"] == "ready\n"  # the trap is in place
    agent.call("jobs.stop", {"id": job["id"], "grace_s": 1})
    done = agent.wait_final(str(job["id"]), timeout=20)
    assert done["state"] == "stopped"
    assert done["signal"] == "SIGKILL"
    assert done["exit_code"] == 128 + signal.SIGKILL
    assert "got TERM" in agent.read_log(str(job["id"]))


def test_stopping_an_ended_job_returns_it_unchanged(agent: AgentProcess) -> None:
    job = launch(agent, "true")
    done = agent.wait_final(str(job["id"]))
    assert agent.call("jobs.stop", {"id": job["id"]}) == done


def test_a_killed_supervisor_makes_the_job_lost(agent: AgentProcess) -> None:
    job = launch(agent, "sleep 60")
    running = agent.wait_for(str(job["id"]), lambda j: j["supervisor_pid"] is not None)
    os.kill(int(running["supervisor_pid"]), signal.SIGKILL)
    lost = agent.wait_for(str(job["id"]), lambda j: j["state"] == "lost")
    assert "supervisor" in lost["error"]
    assert "still running" in lost["error"]  # sleep 60 lives on in its own group
    # Stop still reaches the orphaned command.
    agent.call("jobs.stop", {"id": job["id"], "grace_s": 1})
    deadline = time.monotonic() + 10
    while live_members(int(running["pgid"])) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not live_members(int(running["pgid"])), "the orphaned command survived jobs.stop"


def test_a_reused_pid_does_not_look_alive(agent: AgentProcess) -> None:
    job = launch(agent, "sleep 60")
    agent.wait_for(str(job["id"]), lambda j: j["supervisor_pid"] is not None)
    state_file = Path(str(job["job_dir"])) / "state.json"
    state = json.loads(state_file.read_text())
    # Same pid, another start time: what a reused pid looks like.
    state["supervisor_start_time"] = int(state["supervisor_start_time"]) - 1
    state_file.write_text(json.dumps(state))
    assert agent.call("jobs.get", {"id": job["id"]})["state"] == "lost"


def test_a_job_survives_its_agent_and_a_new_agent_sees_it_end(
    agent_factory: Callable[..., AgentProcess],
) -> None:
    first = agent_factory()
    marker = first.home.parent / "finished"
    job = launch(first, f"sleep 2; echo done > '{marker}'; exit 7")
    first.proc.kill()  # no goodbye, as when an SSH connection dies
    first.close()
    second = agent_factory()
    listed = {j["id"]: j for j in second.call("jobs.list")["jobs"]}
    assert listed[job["id"]]["state"] == "running"
    done = second.wait_final(str(job["id"]))
    assert (done["state"], done["exit_code"]) == ("failed", 7)
    assert marker.read_text() == "done\n"


@pytest.mark.parametrize("mode", MODES)
def test_closing_the_agents_stdin_never_touches_a_job(
    agent_factory: Callable[..., AgentProcess], mode: str
) -> None:
    first = agent_factory()
    job = launch(first, "sleep 3; echo survived", mode=mode)
    assert first.close() == 0
    second = agent_factory()
    done = second.wait_final(str(job["id"]))
    assert done["state"] == "succeeded"
    assert second.read_log(str(job["id"])) == "survived\n"


def test_launch_with_the_same_request_id_returns_the_same_job(agent: AgentProcess) -> None:
    first = launch(agent, "sleep 30", request_id="c-retry-1")
    again = launch(agent, "sleep 30", request_id="c-retry-1")
    assert again["id"] == first["id"]
    assert len(agent.call("jobs.list")["jobs"]) == 1


def test_concurrent_retries_start_one_job(agent_factory: Callable[..., AgentProcess]) -> None:
    agents = [agent_factory() for _ in range(4)]
    results: list[dict[str, object]] = []

    def go(a: AgentProcess) -> None:
        results.append(launch(a, "sleep 30", request_id="c-race"))

    threads = [threading.Thread(target=go, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r["id"] for r in results}) == 1
    assert len(agents[0].call("jobs.list")["jobs"]) == 1


@pytest.mark.parametrize(
    "name",
    ["a/b", "..", "x..y", "nul\x00", "tab\there", "bell\x07", "x" * 129, "", "   "],
)
def test_bad_job_names_start_nothing(agent: AgentProcess, name: str) -> None:
    error = agent.error("jobs.launch", {"name": name, "command": "true"})
    assert error["code"] == protocol.INVALID_PARAMS
    assert error["data"]["field"] == "name"
    assert not list((agent.home / "jobs").glob("*"))


@pytest.mark.parametrize("job_id", ["../../etc", "x/y", "20261121-233501-zzzz", "a\x00"])
def test_bad_job_ids_are_refused_before_any_path_is_built(agent: AgentProcess, job_id: str) -> None:
    for method in ("jobs.get", "jobs.stop", "jobs.remove", "logs.read"):
        error = agent.error(method, {"id": job_id})
        assert error["code"] == protocol.INVALID_PARAMS, method


def test_an_unknown_job_is_32001(agent: AgentProcess) -> None:
    error = agent.error("jobs.get", {"id": "20261121-233501-3f9a"})
    assert error["code"] == protocol.NOT_FOUND
    assert error["data"] == {"id": "20261121-233501-3f9a"}


def test_a_missing_cwd_starts_nothing(agent: AgentProcess, tmp_path: Path) -> None:
    error = agent.error(
        "jobs.launch", {"name": "x", "command": "true", "cwd": str(tmp_path / "no")}
    )
    assert error["code"] == protocol.INVALID_PARAMS
    assert "does not exist" in error["message"]
    assert not list((agent.home / "jobs").glob("*"))


def test_tmux_asked_for_on_a_host_without_tmux(
    agent_factory: Callable[..., AgentProcess], tmp_path: Path
) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    agent = agent_factory(env={"PATH": str(bare)})
    error = agent.error("jobs.launch", {"name": "x", "command": "true", "mode": "tmux"})
    assert error["code"] == protocol.UNAVAILABLE
    assert "tmux is not installed" in error["message"]
    assert not list((agent.home / "jobs").glob("*"))
    assert agent.call("hello")["capabilities"]["tmux"] is None


def test_state_is_private(agent: AgentProcess) -> None:
    job = launch(agent, "true")
    agent.wait_final(str(job["id"]))
    for path in (agent.home, agent.home / "jobs", Path(str(job["job_dir"]))):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in Path(str(job["job_dir"])).iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_remove_refuses_a_running_job_and_deletes_an_ended_one(agent: AgentProcess) -> None:
    job = launch(agent, "sleep 30")
    error = agent.error("jobs.remove", {"id": job["id"]})
    assert error["code"] == protocol.CONFLICT
    assert "stop it first" in error["message"]
    agent.call("jobs.stop", {"id": job["id"], "grace_s": 1})
    agent.wait_final(str(job["id"]))
    assert agent.call("jobs.remove", {"id": job["id"]}) == {"id": job["id"], "removed": True}
    assert not Path(str(job["job_dir"])).exists()
    assert agent.error("jobs.get", {"id": job["id"]})["code"] == protocol.NOT_FOUND


def test_killing_the_tmux_session_does_not_kill_the_job(
    agent: AgentProcess, tmux_env: dict[str, str]
) -> None:
    job = launch(agent, "sleep 2; echo still here", mode="tmux")
    subprocess.run(
        ["tmux", "kill-session", "-t", str(job["tmux_session"])],
        env={**os.environ, **tmux_env},
        check=True,
    )
    done = agent.wait_final(str(job["id"]))
    assert done["state"] == "succeeded"
    assert agent.read_log(str(job["id"])) == "still here\n"


def test_old_request_records_are_pruned_by_a_new_agent(
    agent_factory: Callable[..., AgentProcess],
) -> None:
    first = agent_factory()
    launch(first, "true", request_id="c-old")
    record = first.home / "requests" / "c-old.json"
    assert record.exists()
    week_ago = time.time() - 8 * 24 * 3600
    os.utime(record, (week_ago, week_ago))
    agent_factory().call("jobs.list")
    assert not record.exists()


def test_the_launching_path_survives_the_login_profile(agent: AgentProcess, tmp_path: Path) -> None:
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    tool = venv_bin / "only-in-the-venv"
    tool.write_text("#!/bin/sh\necho found the venv\n")
    tool.chmod(0o755)
    profile_home = tmp_path / "profile-home"
    profile_home.mkdir()
    # A profile that resets PATH, as Debian's /etc/profile does, and adds its own dir.
    (profile_home / ".bash_profile").write_text("PATH=/usr/bin:/bin:/opt/from-profile\n")
    job = launch(
        agent,
        'only-in-the-venv; case "$PATH" in *from-profile*) echo profile kept;; esac',
        env={"PATH": f"{venv_bin}:/usr/bin:/bin", "HOME": str(profile_home)},
    )
    agent.wait_final(str(job["id"]))
    assert agent.read_log(str(job["id"])) == "found the venv\nprofile kept\n"


def test_jobs_are_listed_oldest_first(agent: AgentProcess) -> None:
    ids = [launch(agent, "true", name=f"n{i}")["id"] for i in range(6)]
    assert [j["id"] for j in agent.call("jobs.list")["jobs"]] == ids


def test_a_jobs_logdir_is_kept_and_is_where_its_scalars_are_read(
    agent: AgentProcess, tmp_path: Path
) -> None:
    job = launch(agent, "true", cwd=str(tmp_path), logdir="tb/runs")
    assert job["logdir"] == "tb/runs"
    assert agent.call("jobs.get", {"id": job["id"]})["logdir"] == "tb/runs"
    runs = agent.call("scalars.runs", {"job": job["id"]})
    assert runs["logdir"] == str(tmp_path.resolve() / "tb" / "runs") and not runs["exists"]
    assert launch(agent, "true", cwd=str(tmp_path))["logdir"] is None


@pytest.mark.parametrize("logdir", ["../elsewhere", "/", "", "a\x00b"])
def test_a_logdir_outside_the_cwd_is_refused(
    agent: AgentProcess, tmp_path: Path, logdir: str
) -> None:
    spec = {"name": "t", "command": "true", "mode": "nohup", "cwd": str(tmp_path)}
    error = agent.error("jobs.launch", {**spec, "logdir": logdir})
    assert error["code"] == -32602 and error["data"]["field"] == "logdir"
    assert "logdir" in error["message"]
