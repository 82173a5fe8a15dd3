"""Every (run, tag, step, value) the agent reads equals tbparse's, on logdirs real TF wrote.

All logdirs come from one TensorFlow process per session (importing TF costs seconds): a
Keras ``fit`` with the TensorBoard callback, ``tf.summary.scalar`` (v2) beside other tensor
kinds, v1 ``simple_value`` events from ``FileWriter``, and a restarted run. Damage (a
truncated record, bad CRCs) is done to copies by the tests.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import struct
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.agent import AgentProcess

pytestmark = [
    pytest.mark.tf,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None,
        reason="TensorFlow is not installed (pip install -e '.[tf]')",
    ),
]

WRITE_LOGDIRS = """
import os, sys
import numpy as np
import tensorflow as tf

root = sys.argv[1]
SCALARS = tf.compat.v1.SummaryMetadata(
    plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="scalars"))

def v2(run, steps, start=0, shift=0.0, extra=False):
    writer = tf.summary.create_file_writer(os.path.join(root, run))
    with writer.as_default():
        for step in range(start, start + steps):
            tf.summary.scalar("loss", 1.0 / (step + 1) + shift, step=step)
            tf.summary.scalar("acc", step / 100 + shift, step=step)
            if extra:
                tf.summary.scalar("nan_at_3", float("nan") if step == 3 else step * 0.5, step=step)
                tf.summary.write("double", tf.constant(step * 0.1, tf.float64), step=step,
                                 metadata=SCALARS)
                tf.summary.write("count", tf.constant(step * 3, tf.int64), step=step)
                tf.summary.histogram("weights", tf.random.normal([20]), step=step)
                tf.summary.text("note", "step %d" % step, step=step)
    writer.close()

v2("v2", 40, extra=True)
v2("restart", 30)
v2("restart", 30, start=20, shift=10.0)
v2("damaged", 25)

with tf.Graph().as_default():
    writer = tf.compat.v1.summary.FileWriter(os.path.join(root, "v1"))
    for step in range(30):
        writer.add_summary(tf.compat.v1.Summary(value=[
            tf.compat.v1.Summary.Value(tag="v1/loss", simple_value=2.0 / (step + 1)),
            tf.compat.v1.Summary.Value(tag="v1/lr", simple_value=0.1 * 0.9 ** step),
        ]), step)
    writer.close()

x = np.random.RandomState(0).rand(64, 4).astype("float32")
y = (x.sum(axis=1) > 2).astype("float32")
model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
          callbacks=[tf.keras.callbacks.TensorBoard(os.path.join(root, "keras"))])
"""

Point = tuple[str, str, int, Any]


@pytest.fixture(scope="session")
def tf_logdirs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tf-logdirs") / "logs"
    subprocess.run(
        [sys.executable, "-c", WRITE_LOGDIRS, str(root)],
        check=True,
        timeout=240,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    return root


@pytest.fixture
def job_cwd(tf_logdirs: Path, tmp_path: Path) -> Path:
    """A job's cwd holding a private copy of the logdirs at ``logs``."""
    cwd = tmp_path / "work"
    shutil.copytree(tf_logdirs, cwd / "logs")
    return cwd


def _number(value: Any) -> Any:
    if isinstance(value, str):
        return value  # "nan", "inf", "-inf": as we send them
    return "nan" if math.isnan(value) else float(value)


def tbparse_points(logdir: Path) -> Counter[Point]:
    """Every scalar tbparse finds: ``.scalars`` (v1) and the rank-0 numbers of ``.tensors``."""
    import numpy as np
    from tbparse import SummaryReader

    reader = SummaryReader(str(logdir), extra_columns={"dir_name"})
    found: Counter[Point] = Counter()
    for frame in (reader.scalars, reader.tensors):
        for row in frame.itertuples():
            if isinstance(row.value, (bytes, str)) or np.ndim(row.value) != 0:
                continue  # text, histograms, Keras' model config
            found[(row.dir_name or ".", row.tag, int(row.step), _number(float(row.value)))] += 1
    return found


def agent_points(agent: AgentProcess, job: str, **params: Any) -> tuple[Counter[Point], Any]:
    """Every point from ``scalars.read`` at a width that gives each step its own bucket."""
    reply = agent.call("scalars.read", {"job": job, "width": 4096, **params}, timeout=60)
    found: Counter[Point] = Counter()
    for series in reply["series"]:
        for segment in series["segments"]:
            buckets = segment["buckets"]
            assert set(buckets["count"]) <= {1}, "a bucket holds two points: widen the view"
            for step, value in zip(buckets["x_lo"], buckets["last"], strict=True):
                found[(series["run"], series["tag"], step, _number(value))] += 1
    return found, reply


def launch(agent: AgentProcess, cwd: Path) -> str:
    job = agent.call("jobs.launch", {"name": "tb", "command": "true", "cwd": str(cwd)})
    return str(job["id"])


def record_offsets(data: bytes) -> list[tuple[int, int]]:
    """(start, payload length) of each TFRecord in ``data``."""
    found, pos = [], 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        found.append((pos, length))
        pos += 16 + length
    return found


def test_every_point_equals_tbparse(agent: AgentProcess, job_cwd: Path) -> None:
    job = launch(agent, job_cwd)
    ours, reply = agent_points(agent, job)
    assert ours == tbparse_points(job_cwd / "logs")
    runs = {s["run"] for s in reply["series"]}
    assert {"v1", "v2", "restart", "keras/train", "keras/validation"} <= runs
    tags = {(s["run"], s["tag"]) for s in reply["series"]}
    assert {("v2", "double"), ("v2", "count"), ("keras/train", "epoch_loss")} <= tags
    assert ("v2", "weights") not in tags and ("v2", "note") not in tags
    assert ours[("v2", "nan_at_3", 3, "nan")] == 1


def test_a_restart_is_a_second_segment(agent: AgentProcess, job_cwd: Path) -> None:
    job = launch(agent, job_cwd)
    reply = agent.call("scalars.read", {"job": job, "run": "restart", "tags": "^loss$", "width": 8})
    [series] = reply["series"]
    assert [(s["first_step"], s["last_step"], s["points"]) for s in series["segments"]] == [
        (0, 29, 30),
        (20, 49, 30),
    ]
    assert all(len(s["buckets"]["count"]) <= 8 for s in series["segments"])
    listed = agent.call("scalars.runs", {"job": job})
    [restart] = [r for r in listed["runs"] if r["run"] == "restart"]
    assert len(restart["files"]) == 2
    assert {t["tag"]: t["segments"] for t in restart["tags"]} == {"acc": 2, "loss": 2}


def test_a_truncated_record_is_waited_for_then_read(agent: AgentProcess, job_cwd: Path) -> None:
    [path] = (job_cwd / "logs" / "damaged").iterdir()
    whole = path.read_bytes()
    path.write_bytes(whole[:-7])
    job = launch(agent, job_cwd)
    ours, _ = agent_points(agent, job, run="damaged")
    assert ours == Counter(p for p in tbparse_points(job_cwd / "logs") if p[0] == "damaged")
    with open(path, "ab") as f:  # the writer finishes the record
        f.write(whole[-7:])
    again, reply = agent_points(agent, job, run="damaged")
    assert sum(again.values()) == sum(ours.values()) + 1
    assert again == Counter(p for p in tbparse_points(job_cwd / "logs") if p[0] == "damaged")
    assert reply["cursor"]["damaged"] == {path.name: len(whole)}


def _damage(path: Path, index: int, byte: Callable[[int, int], int]) -> None:
    data = bytearray(path.read_bytes())
    start, length = record_offsets(bytes(data))[index]
    data[byte(start, length)] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_bad_length_crc_stops_that_file_like_tbparse(agent: AgentProcess, job_cwd: Path) -> None:
    [path] = (job_cwd / "logs" / "damaged").iterdir()
    _damage(path, 10, lambda start, length: start + 8)
    job = launch(agent, job_cwd)
    ours, _ = agent_points(agent, job, run="damaged")
    assert 0 < sum(ours.values()) < 50
    assert ours == Counter(p for p in tbparse_points(job_cwd / "logs") if p[0] == "damaged")
    [run] = [r for r in agent.call("scalars.runs", {"job": job})["runs"] if r["run"] == "damaged"]
    assert "framing is lost" in run["files"][0]["error"]


def test_a_bad_data_crc_skips_one_record_and_reads_on(
    agent_factory: Callable[..., AgentProcess], job_cwd: Path
) -> None:
    [path] = (job_cwd / "logs" / "damaged").iterdir()
    intact = Counter(p for p in tbparse_points(job_cwd / "logs") if p[0] == "damaged")
    _damage(path, 10, lambda start, length: start + 12 + length)  # the data CRC
    checked = agent_factory({"TFDASH_SCALARS_CRC": "python"})
    job = launch(checked, job_cwd)
    ours, reply = agent_points(checked, job, run="damaged")
    assert reply["crc"] == "crc32c-python"
    missing = intact - ours
    assert sum(missing.values()) == 1 and not ours - intact  # that one record's point only
    [run] = [r for r in checked.call("scalars.runs", {"job": job})["runs"] if r["run"] == "damaged"]
    assert run["files"][0]["bad_records"] == 1 and run["files"][0]["error"] is None
    # Without a data check the damaged CRC goes unseen and the intact payload is read.
    unchecked = agent_factory({"TFDASH_SCALARS_CRC": "length"})
    plain, reply = agent_points(unchecked, launch(unchecked, job_cwd), run="damaged")
    assert reply["crc"] == "length-only" and plain == intact
