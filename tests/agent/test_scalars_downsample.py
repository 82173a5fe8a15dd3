"""Downsampling and segments without TensorFlow: spikes and NaNs survive, output is bounded."""

from __future__ import annotations

import math
import random
from array import array

from remote_agent.downsample import BLOCK, BlockStats, bucket_edges, downsample, scan, wire_number
from remote_agent.scalarruns import Series
from remote_agent.tfevents import Columns


def columns(steps: list[int], values: list[float]) -> Columns:
    new = Columns()
    new.steps.extend(steps)
    new.walls.extend(float(s) for s in steps)
    new.values.extend(values)
    return new


def test_a_spike_and_a_nan_survive_a_narrow_width() -> None:
    steps = array("q", range(100_000))
    values = array("d", [1.0] * 100_000)
    values[51_234] = 1e9
    values[77_777] = math.nan
    out = downsample(steps, values, 0, len(steps), bucket_edges(0, 99_999, 10))
    assert len(out["count"]) == 10 and sum(out["count"]) == 100_000  # type: ignore[arg-type]
    assert 1e9 in out["max"]
    assert out["nan"] == [0, 0, 0, 0, 0, 0, 0, 1, 0, 0]
    assert out["min"][7] == 1.0 and out["last"][9] == 1.0


def test_buckets_hold_their_x_range_count_and_last_value() -> None:
    steps = array("q", range(10))
    values = array("d", [float(s * s) for s in range(10)])
    out = downsample(steps, values, 0, 10, bucket_edges(0, 9, 3))
    assert out["x_lo"] == [0, 3, 6]
    assert out["x_hi"] == [2, 5, 9]
    assert out["count"] == [3, 3, 4]
    assert out["min"] == [0.0, 9.0, 36.0]
    assert out["max"] == out["last"] == [4.0, 25.0, 81.0]


def test_an_x_range_keeps_only_points_inside_it() -> None:
    steps = array("q", range(100))
    values = array("d", [float(s) for s in range(100)])
    out = downsample(steps, values, 0, 100, bucket_edges(10, 19, 5))
    assert out["x_lo"][0] == 10 and out["x_hi"][-1] == 19
    assert sum(out["count"]) == 10  # type: ignore[arg-type]


def test_non_finite_numbers_go_out_as_strings() -> None:
    assert [wire_number(v) for v in (math.nan, math.inf, -math.inf, 2.5)] == [
        "nan",
        "inf",
        "-inf",
        2.5,
    ]
    out = downsample(array("q", [0, 1]), array("d", [math.nan] * 2), 0, 2, bucket_edges(0, 1, 1))
    assert out["min"] == out["max"] == out["last"] == ["nan"] and out["nan"] == [2]


def test_a_step_going_back_opens_a_segment_even_across_appends() -> None:
    series = Series()
    series.extend(columns([0, 1, 2, 3], [1, 1, 1, 1]))
    series.extend(columns([4, 5, 2, 3], [2, 2, 2, 2]))
    series.extend(columns([1], [3]))
    assert series.segment_starts == [0, 6, 8]
    assert [(r.start, r.stop) for r in series.segments()] == [(0, 6), (6, 8), (8, 9)]
    same_step = Series()
    same_step.extend(columns([5, 5, 6], [0, 0, 0]))
    assert same_step.segment_starts == [0]


def test_block_stats_equal_a_plain_scan_of_any_range() -> None:
    rng = random.Random(5)
    values = array("d", (rng.gauss(0, 1) for _ in range(20 * BLOCK + 17)))
    for index in rng.sample(range(len(values)), 40):
        values[index] = rng.choice([math.nan, math.inf, -math.inf, 1e12])
    values[3 * BLOCK : 5 * BLOCK] = array("d", [math.nan] * (2 * BLOCK))
    blocks = BlockStats()
    blocks.update(values[: 7 * BLOCK + 3])  # grown in two steps, as appends arrive
    blocks.update(values)
    assert len(blocks.mins) == 20
    ranges = [(0, len(values)), (3 * BLOCK, 5 * BLOCK), (3 * BLOCK + 1, 9 * BLOCK - 1)]
    for _ in range(300):
        low, high = sorted(rng.sample(range(len(values) + 1), 2))
        ranges.append((low, high))
    for start, stop in ranges:
        assert blocks.stats(values, start, stop) == scan(values[start:stop]), (start, stop)


def test_a_bucket_of_only_nans_reports_nan_through_the_blocks() -> None:
    steps = array("q", range(4 * BLOCK))
    values = array("d", [math.nan] * (4 * BLOCK))
    blocks = BlockStats()
    blocks.update(values)
    out = downsample(steps, values, 0, len(steps), bucket_edges(0, 4 * BLOCK - 1, 1), blocks)
    assert out["min"] == out["max"] == ["nan"] and out["nan"] == [4 * BLOCK]
