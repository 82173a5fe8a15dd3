"""Alerts raised by real jobs under a real supervisor, listed by ``alerts.list``."""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.scalar_files import v2_event
from support.agent import AgentProcess
from support.fake_gpu import FakeGpu, FakeGpus, fake_gpu_env, fake_uuid

from remote_agent.alertprobes import NanWatcher
from remote_agent.alerts import FILE_NAME, MAX_PER_KIND


def launch(agent: AgentProcess, command: str, **params: Any) -> str:
    spec = {"name": "t", "command": command, "mode": "nohup", **params}
    return str(agent.call("jobs.launch", spec)["id"])


def python(code: str) -> str:
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


def alerts_of(agent: AgentProcess, job_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = agent.call("alerts.list", {"job": job_id})["alerts"]
    return [a for a in found if kind is None or a["kind"] == kind]


def wait_alert(
    agent: AgentProcess, job_id: str, kind: str, timeout: float = 60.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = alerts_of(agent, job_id, kind)
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no {kind} alert: {alerts_of(agent, job_id)}"
        time.sleep(0.1)


def test_a_failing_job_raises_traceback_and_ended(agent: AgentProcess) -> None:
    code = "import sys; print('epoch 1\\r\\x1b[1mstep\\b'); raise ValueError('bad shape')"
    job_id = launch(agent, python(code) + "; exit 3")
    agent.wait_final(job_id)
    traceback = wait_alert(agent, job_id, "traceback")
    assert traceback["message"] == "ValueError: bad shape"
    assert traceback["severity"] == "error"
    assert "Traceback (most recent call last):" in traceback["detail"]
    ended = wait_alert(agent, job_id, "ended")
    assert (ended["message"], ended["severity"]) == ("t failed (exit 3)", "error")
    assert [a["seq"] for a in alerts_of(agent, job_id)] == [1, 2]


def test_success_stop_and_sigkill_end_with_their_own_alerts(agent: AgentProcess) -> None:
    ok = launch(agent, "true")
    stopped = launch(agent, "sleep 60")
    killed = launch(agent, "sleep 60")
    agent.wait_for(killed, lambda j: j["pid"] is not None)
    agent.call("jobs.stop", {"id": stopped, "grace_s": 1})
    os.killpg(int(agent.call("jobs.get", {"id": killed})["pgid"]), signal.SIGKILL)
    assert wait_alert(agent, ok, "ended")["message"] == "t succeeded (exit 0)"
    assert wait_alert(agent, stopped, "ended")["message"] == "t stopped"
    assert wait_alert(agent, stopped, "ended")["severity"] == "info"
    assert wait_alert(agent, killed, "ended")["message"] == "t killed by SIGKILL"


def test_out_of_memory_lines_raise_oom_once_per_message(agent: AgentProcess) -> None:
    line = "2026-01-01 W tensorflow: OOM when allocating tensor with shape[8192,8192]"
    job_id = launch(agent, f"echo '{line}'; echo '{line}'; echo 'CUDA out of memory. Tried'")
    agent.wait_final(job_id)
    wait_alert(agent, job_id, "ended")
    messages = [a["message"] for a in alerts_of(agent, job_id, "oom")]
    assert messages == [line, "CUDA out of memory. Tried"]


def test_alerts_of_one_kind_are_capped(agent: AgentProcess) -> None:
    job_id = launch(agent, f'for i in $(seq {MAX_PER_KIND + 20}); do echo "Out of memory $i"; done')
    agent.wait_final(job_id)
    wait_alert(agent, job_id, "ended")
    oom = alerts_of(agent, job_id, "oom")
    assert len(oom) == MAX_PER_KIND + 1
    assert "suppressed" in oom[-1]["message"]


def test_a_nan_in_the_logdir_raises_one_alert_per_tag(agent: AgentProcess, tmp_path: Path) -> None:
    events = tmp_path / "prepared"
    events.write_bytes(
        v2_event(1, "epoch_loss", 0.5)
        + v2_event(1200, "epoch_loss", float("nan"))
        + v2_event(1300, "epoch_loss", float("nan"))
    )
    cwd = tmp_path / "work"
    (cwd / "logs" / "train").mkdir(parents=True)
    earlier = cwd / "logs" / "train" / "events.out.tfevents.0.host"  # a run before this job
    earlier.write_bytes(v2_event(3, "epoch_loss", float("inf")))
    os.utime(earlier, (time.time() - 60, time.time() - 60))
    target = "logs/train/events.out.tfevents.1.host"
    job_id = launch(agent, f"cat {events} > {target}; sleep 3", cwd=str(cwd), logdir="logs")
    nan = wait_alert(agent, job_id, "nan")
    assert nan["message"] == "epoch_loss is NaN at step 1200 (run train)"
    agent.wait_final(job_id)
    assert len(alerts_of(agent, job_id, "nan")) == 1


def test_idle_gpus_raise_gpu_idle_once(
    agent_factory: Callable[..., AgentProcess], tmp_path: Path
) -> None:
    state = tmp_path / "gpus.json"
    FakeGpus(state).write([FakeGpu(uuid=fake_uuid(0), util_gpu=0)])
    agent = agent_factory({**fake_gpu_env(state), "TFDASH_GPU_IDLE_SECONDS": "1"})
    job_id = launch(agent, "sleep 8", gpus="0")
    idle = wait_alert(agent, job_id, "gpu_idle", timeout=30)
    assert idle["severity"] == "warning"
    assert idle["message"].startswith("GPU 0 idle for ")
    agent.wait_final(job_id)
    assert len(alerts_of(agent, job_id, "gpu_idle")) == 1


def test_no_gpu_never_raises_gpu_idle(
    agent_factory: Callable[..., AgentProcess], tmp_path: Path
) -> None:
    agent = agent_factory({"TFDASH_GPU_IDLE_SECONDS": "0.5"})
    job_id = launch(agent, "sleep 3", gpus="0")
    agent.wait_final(job_id)
    wait_alert(agent, job_id, "ended")
    assert alerts_of(agent, job_id, "gpu_idle") == []


def test_a_lost_job_gets_one_ended_alert(agent: AgentProcess) -> None:
    job_id = launch(agent, "sleep 60")
    running = agent.wait_for(job_id, lambda j: j["supervisor_pid"] is not None)
    os.kill(int(running["supervisor_pid"]), signal.SIGKILL)
    agent.wait_for(job_id, lambda j: j["state"] == "lost")
    agent.call("jobs.list")
    lost = alerts_of(agent, job_id, "ended")
    assert [a["message"] for a in lost] == ["t lost: its supervisor died"]
    agent.call("jobs.stop", {"id": job_id, "grace_s": 0})


def test_list_after_a_cursor_and_with_a_damaged_line(agent: AgentProcess) -> None:
    first, second = launch(agent, "exit 1"), launch(agent, "true")
    for job_id in (first, second):
        agent.wait_final(job_id)
        wait_alert(agent, job_id, "ended")
    everything = agent.call("alerts.list")
    assert {a["job"] for a in everything["alerts"]} == {first, second}
    assert everything["cursor"] == {first: 1, second: 1}
    assert agent.call("alerts.list", {"after": everything["cursor"]})["alerts"] == []
    path = Path(agent.call("jobs.get", {"id": first})["job_dir"]) / FILE_NAME
    with open(path, "ab") as f:
        f.write(b'{"seq": 2, "time": \xff broken\n')
        f.write(json.dumps({**everything["alerts"][0], "seq": 3}).encode() + b"\n")
    later = agent.call("alerts.list", {"after": everything["cursor"]})
    assert [(a["job"], a["seq"]) for a in later["alerts"]] == [(first, 3)]
    assert later["damaged"] == 1
    assert later["cursor"][first] == 3
    assert agent.error("alerts.list", {"after": {first: -1}})["code"] == -32602


def test_launch_checks_gpu_idle_minutes(agent: AgentProcess) -> None:
    error = agent.error("jobs.launch", {"name": "t", "command": "true", "gpu_idle_minutes": 10081})
    assert "gpu_idle_minutes" in error["message"]
    job_id = launch(agent, "true", gpu_idle_minutes=0)
    assert agent.call("jobs.get", {"id": job_id})["gpu_idle_minutes"] == 0


def test_the_nan_watch_reads_what_the_job_wrote_before_the_watch_began(tmp_path: Path) -> None:
    created = time.time()  # the job's created_at: its files are newer, however fast
    run = tmp_path / "logs" / "train"
    run.mkdir(parents=True)
    (run / "events.out.tfevents.1.host").write_bytes(v2_event(5, "loss", float("nan")))
    earlier = run / "events.out.tfevents.0.host"
    earlier.write_bytes(v2_event(1, "loss", float("inf")))
    os.utime(earlier, (created - 60, created - 60))
    time.sleep(0.05)  # the supervisor got to its watch only now
    found: list[tuple[Any, ...]] = []
    NanWatcher(str(tmp_path / "logs"), lambda *a: found.append(a), since=created).poll()
    assert [alert[2] for alert in found] == ["loss is NaN at step 5 (run train)"]
