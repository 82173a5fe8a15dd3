"""The time a person means by "since": ``10m``, ``2h``, ``1d``, an ISO 8601 time, or epoch s.

Used by ``tfdash logs --since``; the agent then starts at the first line written at or
after that time (its time index has a resolution of one second).
"""

from __future__ import annotations

import re
import time
from datetime import datetime

SINCE_FORMS = (
    "a duration before now (90s, 10m, 2h, 1d, 1h30m), an ISO 8601 time "
    "(2026-01-31T14:05, local time unless it names a zone: 2026-01-31T14:05:00+01:00), "
    "or epoch seconds (1769868300)"
)
UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhd])+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_EPOCH = re.compile(r"\d+(?:\.\d+)?")


def parse_since(text: str, now: float | None = None) -> float:
    """Epoch seconds for ``text``; ValueError naming the accepted forms if it is none."""
    spec = text.strip()
    if _DURATION.fullmatch(spec):
        seconds = sum(
            float(amount) * UNIT_SECONDS[unit] for amount, unit in _DURATION_PART.findall(spec)
        )
        return (time.time() if now is None else now) - seconds
    if _EPOCH.fullmatch(spec):
        return float(spec)
    try:
        moment = datetime.fromisoformat(spec)
    except ValueError:
        raise ValueError(f"{text!r} is not a time: use {SINCE_FORMS}") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a time without a zone is local time
    return moment.timestamp()
