"""A real Keras ``fit(verbose=1)`` log, written to a file, reads as a terminal shows it."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tfdash.services.log_text import LogText

pytestmark = [
    pytest.mark.tf,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None,
        reason="TensorFlow is not installed (pip install -e '.[tf]')",
    ),
]

EPOCHS = 3
STEPS = 40
# Slow steps make Keras redraw its bar many times per epoch (it throttles to ~20/s).
FIT = f"""
import time
import numpy as np
import keras

class Slow(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        time.sleep(0.01)

x = np.random.rand({STEPS * 8}, 4).astype("float32")
y = np.random.rand({STEPS * 8}, 1).astype("float32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(1)])
model.compile("adam", "mse")
model.fit(x, y, epochs={EPOCHS}, batch_size=8, verbose=1, callbacks=[Slow()])
print("fit done")
"""


def test_keras_progress_bar_collapses_to_one_line_per_epoch(tmp_path: Path) -> None:
    log = tmp_path / "fit.log"
    with log.open("wb") as out:
        subprocess.run(
            [sys.executable, "-c", FIT],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            timeout=300,
            check=True,
        )
    raw = log.read_bytes().decode("utf-8", errors="replace")
    assert raw.count("\r") > EPOCHS * 2 and "\x08" in raw  # Keras redrew its bar in the file

    text = LogText()
    for start in range(0, len(raw), 777):  # chunks that end anywhere, as partial reads do
        text.feed(raw[start : start + 777])
    lines = [line.plain for line in text.lines]
    assert text.live is None

    epoch_at = [i for i, line in enumerate(lines) if re.fullmatch(r"Epoch \d+/\d+", line)]
    assert len(epoch_at) == EPOCHS
    final = re.compile(rf"{STEPS}/{STEPS} ━+ .*loss: \d+\.\d+\s*")
    for index in epoch_at:
        assert final.fullmatch(lines[index + 1]), lines[index + 1]
    bars = [line for line in lines if "━" in line]
    assert len(bars) == EPOCHS  # no fragments of earlier redraws
    assert lines[-1] == "fit done"
    coloured = text.lines[epoch_at[0] + 1].text
    assert "\x1b[" in coloured and "\x08" not in coloured and "\r" not in coloured
