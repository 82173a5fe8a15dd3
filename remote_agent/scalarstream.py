"""``scalars.subscribe``: new points of a job's scalar series as they are written.

The cursor counts the points already delivered per run and tag (``{"points": {run: {tag:
n}}}``); a ``scalars.read`` reply's ``points`` give the counts to start from, so a client
draws the downsampled history and then receives only what is new. The logdir is polled
every ``POLL_S`` (TensorBoard reloads every 5 s).
"""

from __future__ import annotations

import copy
import threading
from typing import Any, Dict, Pattern

from .downsample import wire_number
from .errors import InvalidParams
from .scalarruns import Logdir
from .streams import StreamRead, StreamSource

POLL_S = 0.5
POINT_BYTES = 40  # about what one point costs on the wire
Counts = Dict[str, Dict[str, int]]


def parse_cursor(raw: dict[str, Any]) -> Counts:
    """``{"points": {run: {tag: n}}}`` checked; an empty cursor starts at the first point."""
    points = raw.get("points", {})
    ok = isinstance(points, dict) and all(
        isinstance(tags, dict)
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in tags.values())
        for tags in points.values()
    )
    if not ok:
        raise InvalidParams(
            "cursor must be {'points': {run: {tag: count}}}, counts whole numbers", "cursor"
        )
    return {run: dict(tags) for run, tags in points.items()}


class ScalarsSource(StreamSource):
    """Items ``{run, tag, first, steps, walls, values, segment_starts}``: points from index
    ``first`` of the series on, and which of them open a segment."""

    kind = "scalars"

    def __init__(
        self, logdir: Logdir, run: str | None, tags: Pattern[str] | None, cursor: Counts
    ) -> None:
        self.logdir = logdir
        self.run = run
        self.tags = tags
        self._sent = cursor
        self._never = threading.Event()

    @property
    def cursor(self) -> dict[str, Any]:
        return {"points": copy.deepcopy(self._sent)}

    def read(self, max_bytes: int) -> StreamRead:
        budget = max(1, max_bytes // POINT_BYTES)
        items: list[dict[str, Any]] = []
        more = False
        with self.logdir.lock:
            if self.logdir.exists():
                self.logdir.poll(self._never)
            for name, run in sorted(self.logdir.runs.items()):
                if self.run is not None and name != self.run:
                    continue
                for tag, series in sorted(run.series.items()):
                    if self.tags is not None and not self.tags.search(tag):
                        continue
                    sent = self._sent.get(name, {}).get(tag, 0)
                    end = min(len(series), sent + budget)
                    if end > sent:
                        items.append(
                            {
                                "run": name,
                                "tag": tag,
                                "first": sent,
                                "steps": list(series.steps[sent:end]),
                                "walls": list(series.walls[sent:end]),
                                "values": [wire_number(v) for v in series.values[sent:end]],
                                "segment_starts": [
                                    i for i in series.segment_starts if sent <= i < end
                                ],
                            }
                        )
                        self._sent.setdefault(name, {})[tag] = end
                        budget -= end - sent
                    more = more or end < len(series)
        size = sum(len(item["steps"]) for item in items) * POINT_BYTES
        return StreamRead(items, self.cursor, size=size, more=more)

    def wait_idle(self, stopped: threading.Event, timeout: float) -> None:
        stopped.wait(min(timeout, POLL_S))
