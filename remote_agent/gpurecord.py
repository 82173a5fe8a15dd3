"""The supervisor's GPU recorder: a daemon thread that appends a sample to the job's
``gpu.jsonl`` every 2 s for the job's whole life, so a client that was away can fill in
its charts. Nothing here may hurt the job: every failure is logged and sampling goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable

from .gpu import Sampler
from .gpuhistory import FILE_NAME, INTERVAL_S, HistoryWriter
from .gpujobs import JobProcs

log = logging.getLogger("remote_agent.gpurecord")


class GpuRecorder:
    """Samples the GPUs for one job until ``stop``; its pid tree is the job's own."""

    def __init__(
        self,
        job_dir: Path,
        job: JobProcs,
        interval_s: float = INTERVAL_S,
        on_sample: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.path = job_dir / FILE_NAME
        self.job = job
        self.interval_s = interval_s
        self.on_sample = on_sample  # also shown each sample (the GPU idle alert)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gpu-recorder", daemon=True)

    def start(self) -> None:
        try:
            self._thread.start()
        except RuntimeError as e:  # no thread to spare: the job matters more
            log.error("GPU recording did not start: %s", e)

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        try:
            sampler = Sampler()
            writer = HistoryWriter(self.path)
        except Exception:
            log.exception("GPU recording could not start; the job runs on without it")
            return
        failed_before: str | None = None
        due = time.monotonic()
        while not self._stopped.is_set():
            try:
                sample = sampler.sample(lambda: [self.job])
                writer.append(sample, self.job.job_id)
                if self.on_sample is not None:
                    self.on_sample(sample)
                failed_before = None
            except Exception as e:  # disk full, a bug: say so once, keep sampling
                if failed_before != str(e):
                    log.exception("cannot record a GPU sample in %s", self.path)
                failed_before = str(e)
            due += self.interval_s
            self._stopped.wait(max(0.0, due - time.monotonic()))
            due = max(due, time.monotonic() - self.interval_s)  # never race to catch up
