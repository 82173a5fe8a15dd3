"""The scrollable column of charts, one per filtered tag, runs in the same colours on all.

Charts are kept per tag and redrawn only when their data or the options changed, so a
live point on one tag repaints one chart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.containers import VerticalScroll

from tfdash.services.scalar_data import ScalarsSnapshot, Series, XAxis
from tfdash.widgets.chart_data import ChartOptions, chart_data
from tfdash.widgets.line_colours import line_colour
from tfdash.widgets.scalar_chart import LEFT_MARGIN, ScalarChart

MIN_BUCKETS = 16
MIN_HEIGHT = 14  # rows of a chart when many scroll
FRAME = 4  # the chart's border and the plot's frame, in columns


class ScalarCharts(VerticalScroll):
    """Holds a ScalarChart per tag shown, in the filter's order."""

    DEFAULT_CSS = """
    ScalarCharts { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.charts: dict[str, ScalarChart] = {}
        self._drawn: dict[str, object] = {}

    def clear_charts(self) -> None:
        self.charts.clear()
        self._drawn.clear()
        self.remove_children()

    def draw(
        self,
        snapshot: ScalarsSnapshot,
        tags: Sequence[str],
        options: ChartOptions,
        x_ranges: Mapping[str, tuple[float, float]],
    ) -> None:
        """Charts for `tags` (made or removed as needed), each drawing its series over its
        own zoom in `x_ranges` (a tag not in it: all of its x extent)."""
        by_tag: dict[str, list[Series]] = {}
        for series in snapshot.series:
            by_tag.setdefault(series.tag, []).append(series)
        wanted = [tag for tag in tags if tag in by_tag]
        self._keep_only(wanted)
        runs = sorted({info.run for info in snapshot.tags} | {s.run for s in snapshot.series})
        colours = {run: line_colour(i) for i, run in enumerate(runs)}
        axis = XAxis(snapshot.x)
        for tag in wanted:
            chart = self.charts[tag]
            of_tag = sorted(by_tag[tag], key=lambda s: s.run)
            x_range = x_ranges.get(tag)
            key = (tuple(of_tag), options, axis, x_range, tuple(colours.items()))
            if self._drawn.get(tag) == key:
                continue
            self._drawn[tag] = key
            data = chart_data(tag, of_tag, options)
            chart.show(data, colours=colours, smoothing=options.smoothing, x=axis, x_range=x_range)

    def _keep_only(self, tags: Sequence[str]) -> None:
        removed = False
        for tag in [tag for tag in self.charts if tag not in tags]:
            self.charts.pop(tag).remove()
            self._drawn.pop(tag, None)
            removed = True
        new = [ScalarChart(tag) for tag in tags if tag not in self.charts]
        for chart in new:
            self.charts[chart.tag] = chart
        if new:
            self.mount_all(new)
        if new or removed:
            self._fit_heights()
        order = {tag: i for i, tag in enumerate(tags)}
        if [c.tag for c in self.query_children(ScalarChart)] != sorted(
            self.charts, key=order.__getitem__
        ):
            self.sort_children(key=lambda w: order.get(getattr(w, "tag", ""), len(order)))

    def _fit_heights(self) -> None:
        """Few charts share the height; many scroll at MIN_HEIGHT rows each."""
        if self.charts:
            height = max(MIN_HEIGHT, self.content_size.height // len(self.charts))
            for chart in self.charts.values():
                chart.styles.height = height

    def on_resize(self) -> None:
        self._fit_heights()

    def buckets_wanted(self) -> int:
        """Buckets to ask the agent for: two per column of the data area (braille is 2 dots
        wide per cell), so the line is as fine as the chart can draw."""
        laid_out = [chart for chart in self.charts.values() if chart.content_size.width > 0]
        if laid_out:
            return max(2 * laid_out[0].plot_columns, MIN_BUCKETS)
        columns = self.content_size.width - LEFT_MARGIN - FRAME  # before the first chart
        return max(2 * columns, MIN_BUCKETS)

    def bring_into_view(self, tag: str) -> None:
        if (chart := self.charts.get(tag)) is not None:
            self.scroll_to_widget(chart)
            chart.focus()
