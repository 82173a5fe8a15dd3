"""Alerts of a job: appended to ``<job dir>/alerts.jsonl`` by its supervisor, listed by
``alerts.list`` (docs/alerts.md).

One JSON object a line, written with one ``O_APPEND`` write each, so a reader sees whole
lines or nothing of a new one; ``seq`` counts from 1 per job, the client's cursor. A job
raises at most ``MAX_PER_KIND`` alerts of one kind, then one saying the rest are suppressed.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from .errors import InvalidParams
from .validate import JOB_ID_RE, check_job_id

log = logging.getLogger("remote_agent.alerts")

FILE_NAME = "alerts.jsonl"
LOST_MARK = "alerts.lost"  # made once (O_EXCL) when the job's lost alert is written
KINDS = ("ended", "traceback", "oom", "nan", "gpu_idle")
SEVERITIES = ("info", "warning", "error")
MAX_PER_KIND = 50
MAX_MESSAGE_CHARS = 300
MAX_DETAIL_BYTES = 8192


def one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` as one line of at most ``limit`` characters (an ellipsis marks a cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def cap_detail(text: str, limit: int = MAX_DETAIL_BYTES) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes, keeping its end (a traceback's end matters)."""
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    return "…" + data[len(data) - limit + 4 :].decode("utf-8", "ignore")


class AlertWriter:
    """Appends one job's alerts; thread-safe (the output reader, the GPU recorder and the
    scalar watcher raise them from their own threads)."""

    def __init__(self, job_dir: Path, job_id: str) -> None:
        self.path = job_dir / FILE_NAME
        self.job_id = job_id
        self._lock = threading.Lock()
        alerts, _ = _parse(self.path)
        self._seq = max((a["seq"] for a in alerts), default=0)
        self._counts: dict[str, int] = {}
        for alert in alerts:
            self._counts[alert["kind"]] = self._counts.get(alert["kind"], 0) + 1

    def raise_alert(
        self, kind: str, severity: str, message: str, detail: str | None = None
    ) -> dict[str, Any] | None:
        """Append an alert and return it; None past the cap of its kind (or if the disk
        refused it: an alert must never hurt the job)."""
        with self._lock:
            count = self._counts.get(kind, 0)
            if count > MAX_PER_KIND:
                return None
            self._counts[kind] = count + 1
            if count == MAX_PER_KIND:
                severity, detail = "warning", None
                message = f"further {kind} alerts of this job suppressed (over {MAX_PER_KIND})"
            self._seq += 1
            alert: dict[str, Any] = {
                "seq": self._seq,
                "time": time.time(),
                "job": self.job_id,
                "kind": kind,
                "severity": severity,
                "message": one_line(message),
            }
            if detail:
                alert["detail"] = cap_detail(detail)
            try:
                append_line(self.path, alert)
            except OSError as e:
                log.error("cannot write %s: %s", self.path, e)
                return None
            return alert


def append_line(path: Path, obj: dict[str, Any]) -> None:
    """One JSON line appended with a single write (O_APPEND: never interleaved)."""
    data = (json.dumps(obj, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(str(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def raise_lost(job_dir: Path, spec: dict[str, Any]) -> None:
    """The ``ended`` alert of a job whose supervisor died, written once whoever notices."""
    try:
        os.close(os.open(str(job_dir / LOST_MARK), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    except OSError as e:
        log.error("cannot mark %s lost: %s", job_dir, e)
        return
    name = spec.get("name") or spec.get("id")
    AlertWriter(job_dir, str(spec["id"])).raise_alert(
        "ended", "error", f"{name} lost: its supervisor died"
    )


def _valid(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    seq = obj.get("seq")
    return (
        isinstance(seq, int)
        and not isinstance(seq, bool)
        and seq > 0
        and isinstance(obj.get("time"), (int, float))
        and isinstance(obj.get("kind"), str)
        and obj.get("severity") in SEVERITIES
        and isinstance(obj.get("message"), str)
    )


def _parse(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The valid alerts of one file and how many lines were damaged (a missing file: none)."""
    try:
        with open(str(path), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return [], 0
    alerts, damaged = [], 0
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except ValueError:
            damaged += 1
            continue
        if _valid(obj):
            alerts.append(obj)
        else:
            damaged += 1
    return alerts, damaged


class AlertFiles:
    """Every job's alerts under a jobs root, each file parsed again only when it changed."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[tuple[int, int, int], list[dict[str, Any]], int]] = {}
        self._lock = threading.Lock()

    def read(self, path: Path) -> tuple[list[dict[str, Any]], int]:
        try:
            st = os.stat(str(path))
        except FileNotFoundError:
            return [], 0
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            cached = self._cache.get(str(path))
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        alerts, damaged = _parse(path)
        with self._lock:
            self._cache[str(path)] = (key, alerts, damaged)
        return alerts, damaged

    def list(self, jobs_root: Path, after: dict[str, int], job: str | None) -> dict[str, Any]:
        """``alerts.list``: alerts after the cursor, oldest first, and the new cursor."""
        names = [job] if job is not None else sorted(os.listdir(str(jobs_root)))
        found: list[dict[str, Any]] = []
        cursor: dict[str, int] = {}
        damaged = 0
        for name in names:
            if not JOB_ID_RE.match(name):
                continue
            alerts, bad = self.read(jobs_root / name / FILE_NAME)
            damaged += bad
            if not alerts:
                continue
            cursor[name] = max(a["seq"] for a in alerts)
            since = after.get(name, 0)
            found.extend(a for a in alerts if a["seq"] > since)
        found.sort(key=lambda a: (a["time"], a.get("job", ""), a["seq"]))
        return {"alerts": found, "cursor": cursor, "damaged": damaged}


def parse_after(raw: Any) -> dict[str, int]:
    """``after`` of ``alerts.list``: ``{job_id: last seq seen}``."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidParams("after must be an object {job_id: seq}", "after")
    after = {}
    for job_id, seq in raw.items():
        check_job_id(job_id, "after")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise InvalidParams(f"after[{job_id!r}] must be a whole number >= 0", "after")
        after[job_id] = seq
    return after


def check_idle_minutes(raw: Any) -> int | None:
    """``gpu_idle_minutes`` of ``jobs.launch``: 0 (off) to 10080 (a week), or None."""
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= 10080:
        raise InvalidParams(
            "gpu_idle_minutes must be a whole number of minutes from 0 (off) to 10080",
            "gpu_idle_minutes",
        )
    return raw
