"""The supervisor's watch on a job's numbers: NaN/Inf scalars and GPUs left idle.

``NanWatcher`` polls the job's logdir every ``NAN_POLL_S`` with the scalar reader the
agent uses (only records appended since the last poll are parsed) and raises ``nan``
once per run and tag. ``GpuIdleWatcher`` is fed the supervisor's own GPU samples and
raises ``gpu_idle`` once per idle episode; it re-arms once the GPUs are busy again.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from typing import Any, Callable, Optional

from .errors import InvalidParams, Unavailable
from .gpujobs import devices_named
from .paths import under_cwd
from .scalarruns import EVENT_FILE_PREFIX, EventFile, Logdir, Run, Series

log = logging.getLogger("remote_agent.alertprobes")

RaiseAlert = Callable[[str, str, str, Optional[str]], object]

NAN_POLL_S = 5.0
IDLE_UTIL_PCT = 5.0
DEFAULT_IDLE_MINUTES = 10
IDLE_SECONDS_ENV = "TFDASH_GPU_IDLE_SECONDS"  # for tests: seconds instead of the job's minutes


class _SinceStart:
    """The NaN watch's RunStore: event files last written before the job started are
    taken as read, so a relaunch into the same logdir is not alerted about the NaNs of
    earlier runs (and their files are not parsed at all)."""

    def __init__(self, started: float) -> None:
        self.started = started

    def load(self, run: Run) -> None:
        for name in os.listdir(run.directory):
            path = os.path.join(run.directory, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            if name.startswith(EVENT_FILE_PREFIX) and st.st_mtime < self.started:
                old = run.files[name] = EventFile(path)
                old.frames.offset = st.st_size  # what they gain later is read

    def polled(self, run: Run) -> None:
        pass

    def save(self, run: Run) -> None:
        pass


class NanWatcher:
    """A thread that reads the job's logdir until ``stop`` and reports non-finite values
    written since it started."""

    def __init__(
        self,
        logdir: str,
        raise_alert: RaiseAlert,
        poll_s: float = NAN_POLL_S,
        since: float | None = None,
    ) -> None:
        # ``since``: when the job was created; the job may write before this thread runs.
        # A second of slack: file times come from a coarser clock than time.time().
        start = time.time() if since is None else since - 1.0
        self.logdir = Logdir(logdir, store=_SinceStart(start))
        self.raise_alert = raise_alert
        self.poll_s = poll_s
        self._reported: set[tuple[str, str]] = set()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nan-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop polling, after one last poll (a NaN written just before the end counts)."""
        self._stopped.set()
        self._thread.join(30.0)

    def _run(self) -> None:
        while True:
            stopping = self._stopped.is_set()
            try:
                self.poll()
            except Unavailable as e:  # no tensorboard protobufs in this Python
                log.warning("NaN alerts are off: %s", e.message)
                return
            except Exception:
                log.exception("reading %s for NaN alerts failed", self.logdir.path)
            if stopping:
                return
            self._stopped.wait(self.poll_s)

    def poll(self) -> None:
        """Read what was appended and check every new value. Checked points are dropped
        (a fresh Series per tag), so the supervisor holds one poll's points, not the run's:
        the agent keeps its own copy for the charts."""
        if not os.path.isdir(self.logdir.path):
            return
        never = threading.Event()
        with self.logdir.lock:
            self.logdir.poll(never)
            for run_name, run in sorted(self.logdir.runs.items()):
                for tag, series in sorted(run.series.items()):
                    run.series[tag] = Series()
                    if (run_name, tag) not in self._reported:
                        self._check(run_name, tag, series)

    def _check(self, run_name: str, tag: str, series: Series) -> None:
        for index, value in enumerate(series.values):
            if not math.isfinite(value):
                self._reported.add((run_name, tag))
                what = "NaN" if math.isnan(value) else "infinite"
                self.raise_alert(
                    "nan",
                    "error",
                    f"{tag} is {what} at step {series.steps[index]} (run {run_name})",
                    None,
                )
                return


def start_nan_watch(spec: dict[str, Any], raise_alert: RaiseAlert) -> NanWatcher | None:
    """Watch the job's logdir for NaN/Inf scalars, when the job names one."""
    logdir = spec.get("logdir")
    if not logdir:
        return None
    try:
        path = under_cwd(spec["cwd"], logdir, "logdir", "directory")
    except InvalidParams as e:  # checked at launch; a link changed since: no NaN alerts
        log.warning("NaN alerts are off: %s", e.message)
        return None
    created = spec.get("created_at")
    since = float(created) if isinstance(created, (int, float)) else None
    watcher = NanWatcher(str(path), raise_alert, since=since)
    watcher.start()
    return watcher


def idle_threshold_s(spec: dict[str, Any]) -> float:
    """Seconds of idle GPUs before an alert: $TFDASH_GPU_IDLE_SECONDS (tests), else the
    job's ``gpu_idle_minutes`` (default 10); 0 turns the alert off."""
    override = os.environ.get(IDLE_SECONDS_ENV)
    if override:
        try:
            return float(override)
        except ValueError:
            log.warning("%s=%r is not a number: ignored", IDLE_SECONDS_ENV, override)
    minutes = spec.get("gpu_idle_minutes")
    return 60.0 * (DEFAULT_IDLE_MINUTES if minutes is None else int(minutes))


class GpuIdleWatcher:
    """Fed GPU samples (``on_sample``); alerts when all the job's GPUs stay below
    ``IDLE_UTIL_PCT`` utilization for ``threshold_s``."""

    def __init__(
        self,
        job_id: str,
        cuda_visible_devices: str | None,
        threshold_s: float,
        raise_alert: RaiseAlert,
    ) -> None:
        self.job_id = job_id
        self.cuda_visible_devices = cuda_visible_devices
        self.threshold_s = threshold_s
        self.raise_alert = raise_alert
        self._idle_since: float | None = None
        self._alerted = False

    def job_gpus(self, sample: dict[str, Any]) -> list:  # type: ignore[type-arg]
        """The indexes of the job's GPUs: those its processes use, else those it was given."""
        own = (sample.get("jobs") or {}).get(self.job_id)
        if own and own.get("gpus"):
            return list(own["gpus"])
        if self.cuda_visible_devices:
            return devices_named(self.cuda_visible_devices, sample["gpus"])
        return []

    def on_sample(self, sample: dict[str, Any]) -> None:
        if self.threshold_s <= 0:
            return
        indexes = self.job_gpus(sample) if sample.get("available") else []
        by_index = {gpu["index"]: gpu for gpu in sample.get("gpus") or []}
        utils = [by_index[i].get("util_gpu") for i in indexes if i in by_index]
        idle = bool(utils) and all(u is not None and u < IDLE_UTIL_PCT for u in utils)
        if not idle:
            self._idle_since, self._alerted = None, False
            return
        now = float(sample["time"])
        if self._idle_since is None:
            self._idle_since = now
        if not self._alerted and now - self._idle_since >= self.threshold_s:
            self._alerted = True
            which = ",".join(str(i) for i in indexes)
            noun = "GPU" if len(indexes) == 1 else "GPUs"
            self.raise_alert(
                "gpu_idle",
                "warning",
                f"{noun} {which} idle for {_duration(now - self._idle_since)}",
                None,
            )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"
