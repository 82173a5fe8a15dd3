"""How fast the supervisor's alert watch reads a job's output, next to writing it.

The supervisor copies the job's output in 64 KiB chunks into output.log and hands each
chunk to ``OutputScanner`` (remote_agent/alertwatch.py), in the same thread: a watch
slower than the job's output would make the job wait on its pipe. This feeds 512 MB of
each kind of output to the scanner and, for comparison, writes the same chunks to a
file in the temp dir, as the supervisor's RotatingLog does (without fsync).

    .venv/bin/python bench/alert_scan.py
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from remote_agent.alertwatch import OutputScanner

TOTAL = 512 * 1024 * 1024
CHUNK = 64 * 1024
LINE = b"50/50 - 2s - 31ms/step - accuracy: 0.7091 - loss: 1.1560 - val_accuracy: 0.7529\n"
BAR = b"\r12/500 [=====>....] - ETA: 3s - loss: 0.3127"
TRACEBACK = (
    b"Traceback (most recent call last):\n"
    b'  File "train.py", line 3, in <module>\n'
    b"ValueError: bad shape\n"
)


def chunk_of(unit: bytes, every: bytes = b"") -> bytes:
    """One 64 KiB chunk of ``unit`` repeated, with ``every`` in it once (if given)."""
    body = unit * ((CHUNK - len(every)) // len(unit))
    return (every + body)[:CHUNK]


def rate(feed: Callable[[bytes], object], chunk: bytes) -> float:
    """MB a second ``feed`` takes in, over TOTAL bytes of ``chunk``."""
    started = time.perf_counter()
    for _ in range(TOTAL // len(chunk)):
        feed(chunk)
    return TOTAL / (time.perf_counter() - started) / 1e6


def main() -> None:
    outputs = {
        "plain 80-character lines": chunk_of(LINE),
        "a Keras progress bar (`\\r` redraws)": chunk_of(BAR),
        "a traceback in every chunk (every line read)": chunk_of(LINE, TRACEBACK),
    }
    print(f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    print("| output | scanner | writing it to a file |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, chunk in outputs.items():
            scanner = OutputScanner(lambda *alert: None)
            with open(Path(tmp) / "output.log", "wb", buffering=0) as out:
                written = rate(out.write, chunk)
            scanned = rate(scanner.feed, chunk)
            print(f"| {name} | {scanned:,.0f} MB/s | {written:,.0f} MB/s |")


if __name__ == "__main__":
    main()
