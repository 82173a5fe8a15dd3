"""The colours of chart lines (runs in the Scalars tab, GPUs in the GPUs tab).

Mid-tone colours that stay readable on the dark and the light theme's backgrounds alike
(no pale yellow or mint, which vanish on white), distinct from the error red of NaN marks.
"""

from __future__ import annotations

LINE_COLOURS = ("#3b9cf0", "#f28e2b", "#2fa84f", "#e15759", "#9467bd", "#17a2b8", "#d45087")


def line_colour(index: int) -> str:
    """The colour of the ``index``-th line (run or GPU), repeating after seven."""
    return LINE_COLOURS[index % len(LINE_COLOURS)]
