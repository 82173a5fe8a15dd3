"""The example job tfdash's demo runs: real TensorFlow, real event files, real checkpoints."""

from __future__ import annotations

import importlib.util
import math
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "keras_quickstart" / "train.py"

pytestmark = [
    pytest.mark.tf,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None,
        reason="TensorFlow is not installed (pip install -e '.[tf]')",
    ),
]


def script_env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside tbparse
def test_two_epochs_write_events_and_checkpoints(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--epochs", "2", "--steps-per-epoch", "5"],
        cwd=tmp_path,
        env=script_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("quickstart: TensorFlow "), lines[0]
    assert str(tmp_path / "logs") in lines[0]
    assert lines[-1].startswith("quickstart: done, 2 epoch(s)"), lines[-1]

    checkpoints = tmp_path / "checkpoints"
    names = sorted(path.name for path in checkpoints.iterdir())
    assert names == ["epoch-001.keras", "epoch-002.keras", "final.keras"]

    from tbparse import SummaryReader

    train = SummaryReader(str(tmp_path / "logs" / "train")).tensors
    validation = SummaryReader(str(tmp_path / "logs" / "validation")).tensors
    epoch_loss = train[train["tag"] == "epoch_loss"]
    assert list(epoch_loss["step"]) == [0, 1]
    assert all(math.isfinite(float(value)) and value > 0 for value in epoch_loss["value"])
    assert len(train[train["tag"] == "batch_loss"]) >= 5  # update_freq="batch"
    assert list(validation[validation["tag"] == "epoch_loss"]["step"]) == [0, 1]

    import keras
    import numpy as np

    model = keras.models.load_model(checkpoints / "final.keras")
    prediction = model.predict(np.zeros((3, 64), dtype="float32"), verbose=0)
    assert prediction.shape == (3, 10)
    assert np.allclose(prediction.sum(axis=1), 1.0, atol=1e-4)  # softmax over 10 classes


def read_lines(stream: IO[str], into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


def test_sigterm_stops_after_the_batch_and_exits_143(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--epochs", "1000", "--steps-per-epoch", "20"],
        cwd=tmp_path,
        env=script_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=read_lines, args=(proc.stdout, lines), daemon=True).start()
    output: list[str] = []
    try:
        deadline = time.monotonic() + 240
        # "Epoch 2/" means one epoch is done and training is under way.
        while not any(line.startswith("Epoch 2/") for line in output):
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "the script ended before its second epoch:\n" + "".join(output)
            output.append(line)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 128 + signal.SIGTERM, "".join(output)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    while (line := lines.get(timeout=30)) is not None:
        output.append(line)
    text = "".join(output)
    assert "quickstart: stopped by SIGTERM" in text, text
    assert "Epoch 1000/" not in text
    assert (tmp_path / "checkpoints" / "final.keras").is_file()
    assert (tmp_path / "checkpoints" / "epoch-001.keras").is_file()
