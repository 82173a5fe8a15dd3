"""The data classes that cross the wire: jobs, specs, host info, cursors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tfdash.models import (
    HostInfo,
    Job,
    JobSpec,
    JobState,
    LaunchMode,
    LogCursor,
)

# The job object exactly as docs/protocol.md shows it (with "log", which Job ignores).
WIRE_JOB: dict[str, Any] = {
    "id": "20261121-233501-3f9a",
    "name": "mnist",
    "command": "python train.py",
    "cwd": "/home/ml/proj",
    "env": {"LR": "0.1"},
    "mode": "tmux",
    "gpus": "0",
    "logdir": "logs",
    "state": "running",
    "pid": 5123,
    "pgid": 5123,
    "supervisor_pid": 5120,
    "created_at": 1763768101.5,
    "started_at": 1763768101.7,
    "ended_at": None,
    "exit_code": None,
    "signal": None,
    "error": None,
    "stop_requested_at": None,
    "tmux_session": "tfdash-20261121-233501-3f9a",
    "tmux_socket": "/tmp/tmux-1000/default",
    "job_dir": "/home/ml/.tfdash/jobs/20261121-233501-3f9a",
    "log_path": "/home/ml/.tfdash/jobs/20261121-233501-3f9a/output.log",
    "log": {"max_bytes": 67108864, "backups": 5},
    "request_id": "c-1f2e",
    "export": {"python": "/home/ml/venv/bin/python", "builder": "train:build_model"},
}


def test_job_from_wire_reads_every_field() -> None:
    job = Job.from_wire(WIRE_JOB)
    assert job.state is JobState.RUNNING
    assert job.state.is_active
    assert job.env == {"LR": "0.1"}
    assert (job.pid, job.pgid, job.supervisor_pid) == (5123, 5123, 5120)
    assert job.tmux_session == "tfdash-20261121-233501-3f9a"
    assert job.request_id == "c-1f2e"


def test_job_to_json_round_trips_through_json() -> None:
    out = Job.from_wire(WIRE_JOB).to_json()
    assert json.loads(json.dumps(out)) == out
    expected = {key: value for key, value in WIRE_JOB.items() if key != "log"}
    assert out == expected
    assert Job.from_wire(out) == Job.from_wire(WIRE_JOB)


def test_job_from_wire_tolerates_a_missing_env_and_unknown_fields() -> None:
    wire = {**WIRE_JOB, "env": None, "added_in_a_later_agent": 1}
    assert Job.from_wire(wire).env == {}


@pytest.mark.parametrize("state", ["succeeded", "failed", "stopped", "lost"])
def test_final_states_are_not_active(state: str) -> None:
    assert not Job.from_wire({**WIRE_JOB, "state": state}).state.is_active


def test_unknown_state_is_an_error() -> None:
    with pytest.raises(ValueError):
        Job.from_wire({**WIRE_JOB, "state": "exploded"})


def test_runtime_of_an_ended_and_a_running_job() -> None:
    ended = Job.from_wire({**WIRE_JOB, "state": "succeeded", "ended_at": 1763768111.7})
    assert ended.runtime() == pytest.approx(10.0)
    running = Job.from_wire(WIRE_JOB)
    assert running.runtime(now=1763768104.7) == pytest.approx(3.0)
    assert Job.from_wire({**WIRE_JOB, "started_at": None}).runtime() is None


def test_job_spec_to_wire_has_only_what_was_given() -> None:
    minimal = JobSpec(name="a", command="echo hi").to_wire("c-1")
    assert minimal == {
        "request_id": "c-1",
        "name": "a",
        "command": "echo hi",
        "env": {},
        "mode": "auto",
    }
    full = JobSpec(
        name="b",
        command="python t.py",
        cwd="/w",
        env={"K": "V"},
        mode=LaunchMode.NOHUP,
        gpus="0,1",
        log_max_bytes=1000,
        log_backups=2,
    ).to_wire("c-2")
    assert full["cwd"] == "/w"
    assert full["gpus"] == "0,1"
    assert full["mode"] == "nohup"
    assert full["log"] == {"max_bytes": 1000, "backups": 2}


def test_host_info_from_the_documented_hello_result() -> None:
    info = HostInfo.from_wire(
        {
            "agent_version": "0.1.0",
            "protocol_version": 1,
            "python": {"version": "3.11.7", "executable": "/usr/bin/python3"},
            "hostname": "gpu-box-3",
            "user": "ml",
            "pid": 4242,
            "time": 1763768000.12,
            "tfdash_home": "/home/ml/.tfdash",
            "capabilities": {"tmux": "3.3a", "nvml": False, "tensorboard": True},
        }
    )
    assert info.agent_pid == 4242
    assert info.python_version == "3.11.7"
    assert info.capabilities.tmux == "3.3a"
    assert info.capabilities.tensorboard
    assert info.capabilities.tensorflow is None


def test_log_cursor_round_trip() -> None:
    cursor = LogCursor(inode=12, offset=345)
    assert LogCursor.from_wire(cursor.to_wire()) == cursor


def test_a_log_cursor_keeps_the_file_fingerprint_round_trip() -> None:
    wire = {"inode": 7, "offset": 900, "head_sha1": "ab" * 20, "head_bytes": 256}
    assert LogCursor.from_wire(wire).to_wire() == wire
    old = {"inode": 7, "offset": 900}
    assert LogCursor.from_wire(old).to_wire() == old
