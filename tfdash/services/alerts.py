"""Alerts of one host's jobs: all of them, or the ones not shown yet (docs/alerts.md).

The agent keeps alerts in each job's directory, so those raised while no dashboard was
connected are still there. What was already shown is a cursor ``{job_id: last seq}``
kept per host in the state directory; ``fetch_new`` asks only for what lies past it and
``mark_delivered`` moves it once the alerts were shown, so a dashboard started later (or
reconnected) shows each alert once.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from tfdash import paths
from tfdash.models import Alert
from tfdash.transport.session import HostSession

logger = logging.getLogger(__name__)

Cursor = dict[str, int]
READ_TIMEOUT_S = 30.0


def load_cursor(path: Path) -> Cursor:
    """The saved cursor, or an empty one (nothing shown yet) if none can be used."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        logger.warning("ignoring the alerts cursor in %s: %s", path, exc)
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(job): seq
        for job, seq in data.items()
        if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0
    }


def save_cursor(path: Path, cursor: Cursor) -> None:
    """Replace the saved cursor atomically (a crash leaves the old one or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(cursor, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


class AlertsService:
    """What the dashboard and `tfdash alerts` ask about one host's alerts."""

    def __init__(self, session: HostSession, cursor_path: Path | None = None) -> None:
        self.session = session
        self.cursor_path = cursor_path or paths.alerts_cursor_file(session.name)
        self._pending: Cursor | None = None
        self._saved: Cursor | None = None  # the cursor as last read or written

    async def list_all(self, job: str | None = None) -> list[Alert]:
        """Every alert of the host (or of ``job``), oldest first."""
        params = {"job": job} if job is not None else {}
        reply = await self.session.call("alerts.list", params, timeout=READ_TIMEOUT_S)
        return [Alert.from_wire(item, self.session.name) for item in reply["alerts"]]

    async def fetch_new(self) -> list[Alert]:
        """The alerts past the saved cursor, oldest first; call ``mark_delivered`` once
        they were shown (until then the next ``fetch_new`` returns them again)."""
        after = self._saved = load_cursor(self.cursor_path)
        reply = await self.session.call("alerts.list", {"after": after}, timeout=READ_TIMEOUT_S)
        self._pending = {str(job): int(seq) for job, seq in reply["cursor"].items()}
        return [Alert.from_wire(item, self.session.name) for item in reply["alerts"]]

    def mark_delivered(self) -> None:
        """Save the cursor of the last ``fetch_new``: its alerts are not new any more."""
        if self._pending is None:
            return
        if self._pending == self._saved:  # the dashboard asks every second: no rewrite
            self._pending = None
            return
        try:
            save_cursor(self.cursor_path, self._pending)
            self._saved = self._pending
        except OSError as exc:  # shown again next time: better than never
            logger.warning("cannot save the alerts cursor %s: %s", self.cursor_path, exc)
        self._pending = None
