"""One tag's chart: textual-plot's PlotWidget drawing a ChartData in braille.

Per run, in its colour: the bucket min/max envelope as faint vertical bars, the raw
line faint, the smoothed line on top (the raw line alone when smoothing is off), and
NaN/inf points as red crosses at the top edge. Log-y plots log10 of the values with
labels in the values' own units; wall time shows clock times.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from textual.message import Message
from textual_plot import DurationFormatter, HiResMode, LegendLocation, PlotWidget
from textual_plot.axis_formatter import AxisFormatter, NumericAxisFormatter

from tfdash.services.scalar_data import XAxis
from tfdash.widgets.chart_data import ChartData
from tfdash.widgets.line_colours import line_colour

# Distinct on dark and light themes; a run keeps its colour on every chart.
NAN_STYLE = "bold red"
LEFT_MARGIN = 10  # PlotWidget's margin_left: the y labels


class LogValueFormatter(NumericAxisFormatter):
    """Ticks placed in log10 space, labelled with the values (0.01, 1, 100): at whole
    decades when the range spans one or more, else where the linear formatter puts them."""

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        first, last = math.ceil(min_), math.floor(max_)
        if last <= first:
            return super().get_ticks(min_, max_, max_ticks)
        every = max(1, math.ceil((last - first + 1) / max_ticks))
        return [float(decade) for decade in range(first, last + 1, every)]

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        return [f"{10**tick:.3g}" for tick in ticks]


class ClockFormatter(DurationFormatter):
    """Wall-time ticks at round seconds, minutes or hours, labelled as local clock times."""

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        span = (ticks[-1] - ticks[0]) if len(ticks) > 1 else 0.0
        pattern = "%m-%d %H:%M" if span >= 86_400 else "%H:%M" if span >= 600 else "%H:%M:%S"
        return [time.strftime(pattern, time.localtime(tick)) for tick in ticks]


def x_formatter(x: XAxis) -> AxisFormatter:
    if x is XAxis.WALL:
        return ClockFormatter()
    if x is XAxis.RELATIVE:
        return DurationFormatter()
    return NumericAxisFormatter()


class ScalarChart(PlotWidget):
    """The chart of one tag; ``show`` replaces what it draws over its own x range (its
    zoom, else autoscaled to its own data)."""

    class ViewReset(Message):
        """The person reset this chart's view ("r" on it): its tag shows all again."""

        def __init__(self, tag: str) -> None:
            super().__init__()
            self.tag = tag

    class Resized(Message):
        """The chart's size changed: the buckets to ask the agent for may have too."""

    DEFAULT_CSS = """
    ScalarChart { height: 14; border: round $panel; }
    ScalarChart:focus { border: round $accent; }
    """

    def __init__(self, tag: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="scalar-chart")
        self.tag = tag
        self.data: ChartData | None = None
        self.smoothing = 0.0
        self._view: tuple[dict[str, str], XAxis, tuple[float, float] | None] = (
            {},
            XAxis.STEP,
            None,
        )
        self._ready = False
        self.set_reactive(PlotWidget.margin_top, 1)  # no y label above: one row is enough
        self.border_title = tag

    @property
    def plot_columns(self) -> int:
        """Columns the data area has (the chart's width less its y labels and frame)."""
        return max(self.content_size.width - LEFT_MARGIN - 2, 1)

    def show(
        self,
        data: ChartData,
        *,
        colours: dict[str, str],
        smoothing: float,
        x: XAxis,
        x_range: tuple[float, float] | None,
    ) -> None:
        """Draw `data` (runs in `colours`), over `x_range` (None: all of it).

        A chart just mounted draws once PlotWidget has composed its canvases."""
        self.data, self.smoothing = data, smoothing
        self._view = (colours, x, x_range)
        if self._ready:
            self._draw()

    def on_mount(self) -> None:
        # PlotWidget's own on_mount runs after this one (and clears): draw after it.
        self.call_after_refresh(self._became_ready)

    def on_resize(self) -> None:
        self.post_message(self.Resized())

    def _became_ready(self) -> None:
        if not self.query("#legend"):
            return  # being removed before its first refresh (another job was shown)
        self._ready = True
        if self.data is not None:
            self._draw()

    def _draw(self) -> None:
        data, smoothing = self.data, self.smoothing
        assert data is not None
        colours, x, x_range = self._view
        self.clear()
        self.set_x_formatter(x_formatter(x))
        self.set_y_formatter(LogValueFormatter() if data.log_y else NumericAxisFormatter())
        self.set_xlimits(*(x_range or (None, None)))
        self.set_ylimits(*(data.y_range or (None, None)))
        low, high = data.y_range if data.y_range is not None else (0.0, 1.0)
        top = high - (high - low) * 0.04  # just inside the frame, where it cannot be missed
        for line in data.lines:
            colour = colours.get(line.run, line_colour(0))
            label: str | None = line.run
            for part in line.parts:
                if part.envelope_x:
                    self.errorbar(
                        [*part.envelope_x],
                        [(lo + hi) / 2 for lo, hi in zip(part.low, part.high, strict=True)],
                        yerr=[(hi - lo) / 2 for lo, hi in zip(part.low, part.high, strict=True)],
                        marker_style=f"dim {colour}",
                    )
                if smoothing > 0:
                    self.plot(part.x, part.raw, line_style=f"dim {colour}", hires_mode=_BRAILLE)
                    self.plot(part.x, part.smoothed, colour, hires_mode=_BRAILLE, label=label)
                else:
                    self.plot(part.x, part.raw, colour, hires_mode=_BRAILLE, label=label)
                label = None
            if line.nan_x:
                self.scatter(line.nan_x, [top] * len(line.nan_x), "✕", NAN_STYLE)
        self.show_legend(LegendLocation.TOPRIGHT, is_visible=len(data.lines) > 0)
        notes = [f"smoothing {smoothing:.2f}" if smoothing > 0 else "raw"]
        if data.dropped:
            notes.append(f"log-y: {data.dropped:,} buckets ≤ 0 left out")
        if any(line.nan_x for line in data.lines):
            notes.append("✕ NaN/inf")
        self.border_subtitle = " · ".join(notes)

    def action_reset_scales(self) -> None:
        """Reset is the panel's: it forgets this chart's zoom and redraws it over all."""
        self.post_message(self.ViewReset(self.tag))


_BRAILLE = HiResMode.BRAILLE
