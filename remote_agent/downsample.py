"""Per-bucket min, max and last of a segment, so a spike or a NaN survives any width.

The x range is cut into ``width`` equal buckets; a segment's points (x non-decreasing within
a segment) are found per bucket by bisection, and each non-empty bucket reports its x range,
point count, NaN count, min and max of the other values, and its last value. Non-finite
numbers go on the wire as the strings ``"nan"``, ``"inf"`` and ``"-inf"`` (JSON has none).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from typing import Sequence, Tuple, Union

Number = Union[int, float, str]
BUCKET_FIELDS = ("x_lo", "x_hi", "count", "nan", "min", "max", "last")


def wire_number(value: float) -> Number:
    """A float JSON can carry: itself if finite, else ``"nan"``, ``"inf"`` or ``"-inf"``."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def bucket_edges(lo: float, hi: float, width: int) -> list[float]:
    """``width + 1`` edges from ``lo`` to ``hi``; the last bucket includes ``hi``."""
    span = hi - lo
    return [lo + span * i / width for i in range(width)] + [hi]


BLOCK = 32
"""Points per block of precomputed min, max and NaN count: a bucket scans at most two partial
blocks, so a read costs about width x BLOCK per segment, not the length of the run."""

Stats = Tuple[float, float, int]
"""(min, max, NaN count) of some points; min is +inf and max -inf when none is a number."""
_NONE: Stats = (math.inf, -math.inf, 0)


def scan(chunk: Sequence[float]) -> Stats:
    """Min, max and NaN count of ``chunk`` (C-speed unless it holds a NaN)."""
    if not chunk:
        return _NONE
    if not math.isnan(sum(chunk)):  # a NaN (or +inf with -inf) makes the sum NaN
        return min(chunk), max(chunk), 0
    kept = [v for v in chunk if not math.isnan(v)]
    if not kept:
        return math.inf, -math.inf, len(chunk)
    return min(kept), max(kept), len(chunk) - len(kept)


class BlockStats:
    """Stats of every whole block of ``BLOCK`` points of a growing series."""

    __slots__ = ("maxs", "mins", "nans")

    def __init__(self) -> None:
        self.mins = array("d")
        self.maxs = array("d")
        self.nans = array("q")

    def update(self, values: Sequence[float]) -> None:
        """Add the blocks ``values`` completed since the last update (cost: the new points)."""
        for block in range(len(self.mins), len(values) // BLOCK):
            low, high, nan = scan(values[block * BLOCK : (block + 1) * BLOCK])
            self.mins.append(low)
            self.maxs.append(high)
            self.nans.append(nan)

    def stats(self, values: Sequence[float], start: int, stop: int) -> Stats:
        """Stats of ``values[start:stop]``: whole blocks from the table, the ends scanned."""
        first_block = -(-start // BLOCK)
        end_block = min(stop // BLOCK, len(self.mins))
        if end_block - first_block < 2:
            return scan(values[start:stop])
        parts = (
            scan(values[start : first_block * BLOCK]),
            (
                min(self.mins[first_block:end_block]),
                max(self.maxs[first_block:end_block]),
                sum(self.nans[first_block:end_block]),
            ),
            scan(values[end_block * BLOCK : stop]),
        )
        return min(p[0] for p in parts), max(p[1] for p in parts), sum(p[2] for p in parts)


def downsample(
    xs: Sequence[float],
    values: Sequence[float],
    start: int,
    end: int,
    edges: list[float],
    blocks: BlockStats | None = None,
) -> dict[str, list[Number]]:
    """Buckets of ``xs[start:end]`` / ``values[start:end]`` over ``edges``, column-wise."""
    out: dict[str, list[Number]] = {name: [] for name in BUCKET_FIELDS}
    first = bisect_left(xs, edges[0], start, end)
    last_edge = len(edges) - 1
    for index in range(last_edge):
        if first >= end:
            break
        upper = edges[index + 1]
        if index == last_edge - 1:
            stop = bisect_right(xs, upper, first, end)
        else:
            stop = bisect_left(xs, upper, first, end)
        if stop > first:
            stats = blocks.stats(values, first, stop) if blocks else scan(values[first:stop])
            _bucket(out, xs[first], xs[stop - 1], stop - first, stats, values[stop - 1])
        first = stop
    return out


def _bucket(
    out: dict[str, list[Number]], x_lo: float, x_hi: float, count: int, stats: Stats, last: float
) -> None:
    low, high, nan = stats
    if nan == count:
        low = high = math.nan
    for name, value in (
        ("x_lo", x_lo),
        ("x_hi", x_hi),
        ("count", count),
        ("nan", nan),
        ("min", wire_number(low)),
        ("max", wire_number(high)),
        ("last", wire_number(last)),
    ):
        out[name].append(value)


def x_bounds(ranges: list[tuple[Sequence[float], int, int]]) -> tuple[float, float]:
    """The smallest and largest x over index ranges of x arrays (non-decreasing in each)."""
    lows = [xs[start] for xs, start, end in ranges if end > start]
    highs = [xs[end - 1] for xs, start, end in ranges if end > start]
    if not lows:
        return 0.0, 0.0
    return min(lows), max(highs)
