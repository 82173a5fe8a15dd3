"""gpu.jsonl: written by a real job's supervisor, read by gpu.history, bounded by thinning."""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.agent import AgentProcess
from support.fake_gpu import FakeGpu, FakeGpus, FakeProcess, fake_gpu_env, fake_uuid

from remote_agent.gpuhistory import HistoryWriter, read_history
from remote_agent.gpuwire import gpu_entry, unavailable_sample

JOB = "20261121-233501-3f9a"


def sample_at(t: float, util: int, names: tuple[str, ...] = ("A100",)) -> dict[str, Any]:
    gpus = []
    for index, name in enumerate(names):
        gpu = gpu_entry(index, fake_uuid(index), name)
        gpu["util_gpu"] = util
        gpus.append(gpu)
    return {
        "time": t,
        "available": True,
        "reason": None,
        "source": "nvml",
        "driver": "550.54.15",
        "gpus": gpus,
        "jobs": {JOB: {"gpus": [0], "how": "pid"}},
    }


def test_thinning_keeps_the_whole_life_and_the_recent_part_at_full_resolution(
    tmp_path: Path,
) -> None:
    path = tmp_path / "gpu.jsonl"
    writer = HistoryWriter(path, max_lines=20)
    for t in range(100):
        # The device table changes once, early: it must survive the thinning.
        writer.append(sample_at(float(t), t, ("A100",) if t < 3 else ("H100",)), JOB)
    lines = path.read_bytes().splitlines()
    assert 10 <= len(lines) <= 20
    times = [s["time"] for s in read_history(path, JOB)["samples"]]
    assert times[0] == 0.0 and times[-1] == 99.0  # the whole life
    assert times == sorted(times)
    assert times[-10:] == [float(t) for t in range(90, 100)]  # recent: every sample
    assert times[1] - times[0] > 1.0  # old: thinned
    samples = read_history(path, JOB)["samples"]
    assert [s["gpus"][0]["name"] for s in samples][:1] == ["A100"]
    assert samples[-1]["gpus"][0]["name"] == "H100"
    assert all(s["gpus"][0]["uuid"] == fake_uuid(0) for s in samples)
    assert samples[-1]["gpus"][0]["util_gpu"] == 99
    assert samples[-1]["jobs"] == {JOB: {"gpus": [0], "how": "pid"}}
    assert samples[-1]["gpus"][0]["processes"] == []


def test_the_reader_skips_garbage_and_a_partial_last_line(tmp_path: Path) -> None:
    path = tmp_path / "gpu.jsonl"
    writer = HistoryWriter(path)
    writer.append(sample_at(1.0, 10), JOB)
    writer.append(unavailable_sample("driver error: GPU is lost", at=2.0), JOB)
    with path.open("ab") as f:
        f.write(b'not json\n{"t": "x"}\n[1, 2]\n{"t": 3.0, "g": [[0, 5')  # a crash mid-line
    samples = read_history(path, JOB)["samples"]
    assert [s["time"] for s in samples] == [1.0, 2.0]
    assert samples[1]["available"] is False
    assert samples[1]["reason"] == "no NVIDIA GPU visible: driver error: GPU is lost"
    HistoryWriter(path).append(sample_at(4.0, 40), JOB)  # a new writer ends the partial line
    after = read_history(path, JOB)["samples"]
    assert [s["time"] for s in after] == [1.0, 2.0, 4.0]
    # The new writer has no device table yet: it writes one, so names are right.
    assert after[-1]["gpus"][0]["name"] == "A100"


def test_a_long_range_is_thinned_evenly_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "gpu.jsonl"
    writer = HistoryWriter(path)
    for t in range(101):
        writer.append(sample_at(float(t), t), JOB)
    reply = read_history(path, JOB, since=10.0, until=90.0, max_samples=5)
    assert reply["thinned"] is True
    assert [s["time"] for s in reply["samples"]] == [10.0, 30.0, 50.0, 70.0, 90.0]
    whole = read_history(path, JOB, since=95.5)
    assert whole["thinned"] is False and len(whole["samples"]) == 5
    assert read_history(tmp_path / "missing.jsonl", JOB)["samples"] == []


def wait_for_history(
    agent: AgentProcess, job_id: str, done: Callable[[list[dict[str, Any]]], bool]
) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        history: dict[str, Any] = agent.call("gpu.history", {"job": job_id})
        if history["samples"] and done(history["samples"]):
            return history
        assert time.monotonic() < deadline, history
        time.sleep(0.2)


def test_the_supervisor_records_the_jobs_gpus_for_its_whole_life(
    agent_factory: Callable[..., AgentProcess], tmp_path: Path
) -> None:
    state = tmp_path / "gpus.json"
    FakeGpus(state).write([FakeGpu(uuid=fake_uuid(0)), FakeGpu(uuid=fake_uuid(1))])
    agent = agent_factory(fake_gpu_env(state))
    job = agent.call("jobs.launch", {"name": "g", "mode": "nohup", "command": "sleep 60"})
    wait_for_history(agent, job["id"], bool)
    # Then NVML sees the job's own process on GPU 1.
    FakeGpus(state).write(
        [
            FakeGpu(uuid=fake_uuid(0)),
            FakeGpu(uuid=fake_uuid(1), util_gpu=3, processes=(FakeProcess(job["pid"]),)),
        ]
    )
    history = wait_for_history(agent, job["id"], lambda samples: bool(samples[-1]["jobs"]))
    assert history["job"] == job["id"] and history["interval_s"] == 2.0
    last = history["samples"][-1]
    assert last["jobs"] == {job["id"]: {"gpus": [1], "how": "pid"}}
    assert (last["source"], last["driver"]) == ("nvml", "550.54.15")
    assert [g["uuid"] for g in last["gpus"]] == [fake_uuid(0), fake_uuid(1)]
    assert last["gpus"][1]["util_gpu"] == 3
    first = history["samples"][0]
    assert first["gpus"][1]["util_gpu"] == 87  # before the job was on the GPU
    agent.call("jobs.stop", {"id": job["id"], "grace_s": 1})
    agent.wait_final(job["id"])
    times = [s["time"] for s in agent.call("gpu.history", {"job": job["id"]})["samples"]]
    assert times == sorted(times) and len(times) >= 2
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1.0  # every 2 s, not faster
    later = agent.call("gpu.history", {"job": job["id"], "since": times[1]})["samples"]
    assert [s["time"] for s in later] == times[1:]
    lines = (Path(job["job_dir"]) / "gpu.jsonl").read_text().splitlines()
    assert all(json.loads(line)["t"] for line in lines)


def test_a_tmux_job_samples_with_the_agents_environment_not_the_tmux_servers(
    agent_factory: Callable[..., AgentProcess], tmux_env: dict[str, str], tmp_path: Path
) -> None:
    # A tmux server that was started long before, without the variables NVML needs here.
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", "older"], env=tmux_env, check=True, timeout=10
    )
    state = tmp_path / "gpus.json"
    FakeGpus(state).write([FakeGpu(uuid=fake_uuid(0), util_gpu=42)])
    agent = agent_factory(fake_gpu_env(state))
    job = agent.call(
        "jobs.launch",
        {"name": "t", "mode": "tmux", "command": "echo x=$X; sleep 60", "env": {"X": "1"}},
    )
    history = wait_for_history(agent, job["id"], bool)
    assert history["samples"][0]["available"], history["samples"][0]
    assert history["samples"][0]["gpus"][0]["util_gpu"] == 42
    # The first sample comes as the job starts, maybe before its login shell printed.
    output = Path(job["job_dir"]) / "output.log"
    deadline = time.monotonic() + 30
    while "x=1" not in output.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "x=1" in output.read_text()  # the job's own environment is as before
    agent.call("jobs.stop", {"id": job["id"], "grace_s": 1})
    final = agent.wait_final(job["id"])
    assert final["state"] == "stopped"
