"""The log view under a flood: lines a second it takes in, key latency, memory.

A headless Textual app holds one LogView (the dashboard's widget, default settings: a
100,000-line scrollback). A producer hands it chunks the way the follower does
(``LogView.queue_chunk``) at an offered rate of 100,000 (then 300,000) 100-character
lines a second for 10 s, while a key ("down": move the selected line) is pressed every 200 ms. We
record how many lines the view took in, how long each key took from being posted to
its action running, and the process's RSS with the scrollback full.

Run: .venv/bin/python bench/log_view.py [--write] (bench/logs.py runs it too, and its
--write rewrites the whole "## Logs" section, this part included).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from pathlib import Path

from perfpage import PAGE, machine
from textual import events
from textual.app import App, ComposeResult

from tfdash.config import LogSettings
from tfdash.models import LogChunk, LogCursor
from tfdash.widgets.log_view import LogView

RATES = (100_000, 300_000)  # lines a second offered
SECONDS = 10.0
TICK_S = 0.01
KEY_EVERY_S = 0.2
PAGE_SIZE = 4096
HEADING = "### The log view under a flood"


def rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE_SIZE


class Bench(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView(settings=LogSettings(), id="log")


async def flood(app: Bench, rate: int) -> dict[str, float]:
    view = app.query_one(LogView)
    view.focus()
    pressed: list[float] = []
    latencies: list[float] = []
    original = view.action_cursor

    def timed_cursor(lines: int) -> None:
        if pressed:
            latencies.append(time.perf_counter() - pressed.pop(0))
        original(lines)

    view.action_cursor = timed_cursor  # type: ignore[method-assign]
    filler = "y" * 72
    per_tick = int(rate * TICK_S)
    cursor = LogCursor(1, 0)
    sent = 0
    started = time.perf_counter()
    next_key = started + KEY_EVERY_S
    while (now := time.perf_counter()) - started < SECONDS:
        due = int((now - started) * rate)
        if due > sent:
            count = min(due - sent, per_tick * 10)
            text = "".join(
                f"{n:08d} step {n % 1000:03d} loss 0.{n % 97:04d} {filler}\n"
                for n in range(sent, sent + count)
            )
            view.queue_chunk(LogChunk(text, cursor, False, None, time=time.time()))
            sent += count
        if now >= next_key:
            pressed.append(time.perf_counter())
            app.post_message(events.Key("down", None))
            next_key += KEY_EVERY_S
        await asyncio.sleep(TICK_S)
    offered_for = time.perf_counter() - started
    while view._pending:  # let the view take in what it was handed
        await asyncio.sleep(0.01)
    took = time.perf_counter() - started
    return {
        "rate": rate,
        "sent": sent,
        "offered_s": offered_for,
        "took_s": took,
        "held": len(view.text),
        "keys": len(latencies),
        "key_p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "key_max_ms": max(latencies) * 1000 if latencies else float("nan"),
        "keys_lost": len(pressed),
    }


async def measure(rate: int) -> dict[str, float]:
    gc.collect()
    before = rss()
    app = Bench()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        result = await flood(app, rate)
        result["rss_growth_mb"] = (rss() - before) / 1e6
    return result


def section(results: list[dict[str, float]]) -> str:
    rows = "".join(
        f"| {r['rate']:,.0f} | {r['sent'] / r['took_s']:,.0f} "
        f"| {r['took_s'] - r['offered_s']:.1f} s "
        f"| {r['held']:,.0f} | {r['key_p50_ms']:.0f} / {r['key_max_ms']:.0f} ms "
        f"({r['keys_lost']:.0f} of {r['keys'] + r['keys_lost']:.0f} unanswered) "
        f"| {r['rss_growth_mb']:.0f} MB{' (same process, after the first)' if i else ''} |\n"
        for i, r in enumerate(results)
    )
    return (
        f"{HEADING}\n\n"
        f"`bench/log_view.py` on {machine()}: the dashboard's LogView in a headless Textual\n"
        f"app (120x36), handed 100-character lines for {SECONDS:g} s the way the follower hands\n"
        'them over, while a key (move the selected line) is pressed every 200 ms. "Behind" is\n'
        "how long after the last line was handed over the view had taken it in; drawing is\n"
        "Textual's headless rendering of the visible rows. Scrollback: the default 100,000.\n\n"
        "| lines/s offered | lines/s taken in | behind at the end | lines held "
        "| key to action, median / worst | RSS growth |\n"
        "|---|---|---|---|---|---|\n" + rows
    )


def write_logs_subsection(text: str) -> None:
    """Put (or replace) this "###" part at the end of bench/logs.py's "## Logs" section."""
    page = PAGE.read_text()
    logs = page.index("## Logs")
    end = page.find("\n## ", logs + 1)
    end = len(page) if end < 0 else end + 1
    body = page[logs:end]
    if HEADING in body:
        start = body.index(HEADING)
        nxt = body.find("\n### ", start + 1)
        body = body[:start] + text + ("" if nxt < 0 else body[nxt + 1 :])
    else:
        body = body.rstrip("\n") + "\n\n" + text
    PAGE.write_text(
        page[:logs] + body.rstrip("\n") + "\n" + ("\n" + page[end:] if page[end:] else "")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    results = [asyncio.run(measure(rate)) for rate in RATES]
    text = section(results)
    print(text)
    if args.write:
        write_logs_subsection(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
