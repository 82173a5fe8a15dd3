"""One GPU metric over wall time, a braille line per GPU, on the Scalars tab's clock axis.

The x axis is the host's wall clock labelled like the Scalars charts' wall axis
(ScalarChart's ClockFormatter), so a loss plateau and a utilization drop at the same
moment line up. The y axis runs from 0 to the metric's top (100 %, the largest GPU's
memory, its power limit) so a half-busy GPU looks half busy.
"""

from __future__ import annotations

import math

from textual_plot import HiResMode, PlotWidget

from tfdash.services.gpu_series import GpuLine, GpuMetric
from tfdash.widgets.line_colours import line_colour
from tfdash.widgets.scalar_chart import ClockFormatter

# Distinct from each other on dark and light themes; GPU i keeps its colour everywhere.
LEFT_MARGIN = 6  # PlotWidget's margin_left: the y labels ("100", "40.0")


TICK_SPACING = 10  # columns per x label ("23:41:20" and room around it)


def clock_ticks(x_range: tuple[float, float], columns: int) -> list[float]:
    """Round clock times within ``x_range``, few enough for their labels to fit."""
    ticks = ClockFormatter().get_ticks(*x_range)
    most = max(2, columns // TICK_SPACING)
    return ticks[:: math.ceil(len(ticks) / most)] if ticks else ticks


class GpuChart(PlotWidget):
    """The chart of one metric; ``show`` replaces its lines and its x range."""

    DEFAULT_CSS = """
    GpuChart { width: 1fr; height: 1fr; min-height: 6; border: round $panel; }
    GpuChart:focus { border: round $accent; }
    """

    def __init__(self, metric: GpuMetric, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="gpu-chart", allow_pan_and_zoom=False)
        self.metric = metric
        self.lines: list[GpuLine] = []
        self.border_title = metric.label

    def on_mount(self) -> None:
        # Reactives whose watchers need the composed grid: set once mounted.
        self.margin_left = LEFT_MARGIN
        self.margin_top = 0
        self.margin_bottom = 2
        self.set_x_formatter(ClockFormatter())

    @property
    def plot_columns(self) -> int:
        """Columns the data area has (the chart's width less its y labels and frame)."""
        return max(self.content_size.width - LEFT_MARGIN, 1)

    def show(
        self,
        lines: list[GpuLine],
        x_range: tuple[float, float],
        top: float | None,
    ) -> None:
        """Draw one line per GPU over ``x_range``, y from 0 to ``top`` (None: automatic)."""
        self.lines = lines
        self.clear()
        self.set_xlimits(*x_range)
        self.set_xticks(clock_ticks(x_range, self.plot_columns))
        self.set_ylimits(0.0, top if top is not None and top > 0 else None)
        for line in lines:
            self.plot(
                line.x,
                line.y,
                line_style=line_colour(line.gpu),
                hires_mode=HiResMode.BRAILLE,
                label=f"GPU {line.gpu}",
            )
        latest = [f"{line.gpu}: {self.metric.format_value(line.y[-1])}" for line in lines if line.y]
        self.border_subtitle = " · ".join(latest) if len(lines) > 1 else ""
