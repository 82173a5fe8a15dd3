"""docs/performance.md: each bench script owns one "## …" section of the page."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "performance.md"
PAGE_INTRO = (
    "# Performance\n\n"
    "Measurements of tfdash beside the tools a person would otherwise use. Each section\n"
    "says how it was measured and on which machine; the scripts live in `bench/`.\n"
)


def write_section(heading: str, section: str, page: Path = PAGE) -> None:
    """Replace (or add) the section that starts with ``heading``; leave the others."""
    text = page.read_text() if page.exists() else PAGE_INTRO
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    page.write_text(text.rstrip("\n") + "\n")


def machine() -> str:
    """One line on where a measurement ran."""
    openssh = subprocess.run(
        ["ssh", "-V"], check=False, capture_output=True, text=True
    ).stderr.strip()
    return (
        f"{platform.node()}, {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}, {openssh.split(',')[0]}"
    )
