"""The GPUs' current values, one row per GPU, updated in place from the newest sample.

A value the GPU does not report is "n/a"; a GPU the agent could not read shows why in
its row; the GPUs of the selected job are marked, so "which GPU is mine" needs no
cross-reading of the process table.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tfdash.services.gpu_samples import GpuInfo, GpuSample
from tfdash.services.gpu_series import GIB
from tfdash.widgets.line_colours import line_colour

NOT_AVAILABLE = "n/a"

# (key, label, width)
COLUMNS = (
    ("gpu", "GPU", 4),
    ("name", "Name", 22),
    ("util", "Util", 5),
    ("mem_util", "MemIO", 5),
    ("memory", "Memory", 15),
    ("temp", "Temp", 5),
    ("power", "Power", 11),
    ("clock", "SM clock", 9),
)


def format_percent(value: float | None) -> str:
    return NOT_AVAILABLE if value is None else f"{value:.0f} %"


def format_memory(used: int | None, total: int | None) -> str:
    """E.g. "3.2 / 40.0 GiB"; either side may be n/a."""
    if used is None and total is None:
        return NOT_AVAILABLE
    left = NOT_AVAILABLE if used is None else f"{used / GIB:.1f}"
    right = NOT_AVAILABLE if total is None else f"{total / GIB:.1f}"
    return f"{left} / {right} GiB"


def format_power(draw: float | None, limit: float | None) -> str:
    """E.g. "251 / 400 W"."""
    if draw is None and limit is None:
        return NOT_AVAILABLE
    left = NOT_AVAILABLE if draw is None else f"{draw:.0f}"
    right = NOT_AVAILABLE if limit is None else f"{limit:.0f}"
    return f"{left} / {right} W"


def format_unit(value: float | None, unit: str) -> str:
    return NOT_AVAILABLE if value is None else f"{value:.0f} {unit}"


def gpu_cells(info: GpuInfo, mine: bool) -> list[str | Text]:
    """The row of one GPU: its values, or its error across the value columns."""
    marker = "▶" if mine else " "
    # The index in its line colour: the table is the charts' legend.
    index = Text(f"{marker}{info.index}", style=f"bold {line_colour(info.index)}")
    name = info.name or NOT_AVAILABLE
    if info.error is not None:
        error = Text(f"error: {info.error}", style="red")
        return [index, name, error, "", "", "", "", ""]
    return [
        index,
        name,
        format_percent(info.util_gpu),
        format_percent(info.util_mem),
        format_memory(info.mem_used, info.mem_total),
        format_unit(info.temperature, "°C"),
        format_power(info.power_w, info.power_limit_w),
        format_unit(info.sm_clock_mhz, "MHz"),
    ]


class GpuTable(DataTable[str | Text]):
    """One row per GPU of the newest sample; ``mine`` marks the selected job's GPUs."""

    DEFAULT_CSS = """
    GpuTable { height: auto; max-height: 10; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", zebra_stripes=False)
        self._shown: dict[int, list[str | Text]] = {}

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, width=width, key=key)

    def show_sample(self, sample: GpuSample | None, mine: tuple[int, ...] = ()) -> None:
        """Show the GPUs of ``sample`` (None or unavailable: no rows)."""
        gpus = sample.gpus if sample is not None and sample.available else ()
        wanted = {info.index: gpu_cells(info, info.index in mine) for info in gpus}
        if list(wanted) != list(self._shown):
            self.clear()
            for index, cells in wanted.items():
                self.add_row(*cells, key=str(index))
        else:
            for index, cells in wanted.items():
                for (key, _, _), before, after in zip(
                    COLUMNS, self._shown[index], cells, strict=True
                ):
                    if before != after:
                        self.update_cell(str(index), key, after)
        self._shown = wanted
