"""Lines a second the view's text model ingests, and client memory with a full scrollback.

Measures the log view's text model (tfdash/services/log_text.py, ``LogText``): 1,000,000
100-character lines fed in 64 KiB chunks into a 100,000-line scrollback; lines a second,
the tracemalloc peak (a second pass, since tracing slows Python down) and the process's
RSS growth. The widget that draws the model is not part of this number.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

LINES = 1_000_000
SCROLLBACK = 100_000
CHUNK = 64 * 1024
PAGE_SIZE = 4096


@dataclass(frozen=True)
class Ingest:
    lines_per_s: float
    traced_peak: int
    rss_growth: int
    held: int


def rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE_SIZE


def chunks() -> list[str]:
    """1,000,000 numbered 100-character lines, cut every 64 KiB (mid-line, as reads are)."""
    filler = "y" * (100 - 1 - 21)
    text = "".join(f"{n:08d} epoch 1 step {n % 1000:03d} {filler}\n" for n in range(LINES))
    return [text[start : start + CHUNK] for start in range(0, len(text), CHUNK)]


def measure_view_ingest() -> Ingest:
    """Feed the text model, then again under tracemalloc."""
    from tfdash.services.log_text import LogText

    pieces = chunks()
    gc.collect()
    before = rss()
    model = LogText(max_lines=SCROLLBACK)
    started = time.perf_counter()
    for piece in pieces:
        model.feed(piece, time.time())
    elapsed = time.perf_counter() - started
    growth = rss() - before
    held = len(model)
    del model
    gc.collect()
    tracemalloc.start()
    traced = LogText(max_lines=SCROLLBACK)
    for piece in pieces:
        traced.feed(piece, time.time())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return Ingest(LINES / elapsed, peak, growth, held)


def ingest_section(result: Ingest) -> str:
    heading = "### View ingest\n\n"
    return (
        f"{heading}The log view's text model (`LogText`, tfdash/services/log_text.py) fed\n"
        f"{LINES:,} 100-character lines in 64 KiB chunks, scrollback {SCROLLBACK:,} lines\n"
        "(the default); the widget's drawing is not included.\n\n"
        "| what | value |\n|---|---|\n"
        f"| lines ingested a second | {result.lines_per_s:,.0f} |\n"
        f"| lines held at the end | {result.held:,} |\n"
        f"| tracemalloc peak (second pass) | {result.traced_peak / 1e6:.0f} MB |\n"
        f"| RSS growth of the process (first pass) | {result.rss_growth / 1e6:.0f} MB |\n"
    )
