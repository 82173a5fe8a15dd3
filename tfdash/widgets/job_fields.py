"""The job detail fields: a two-column grid of labels and values, updated in place."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Static

from tfdash.models import Job, JobState
from tfdash.widgets.job_table import format_duration

FIELD_LABELS = (
    ("id", "ID"),
    ("name", "Name"),
    ("state", "State"),
    ("command", "Command"),
    ("cwd", "Directory"),
    ("mode", "Mode"),
    ("gpus", "GPUs"),
    ("pid", "PID"),
    ("started", "Started"),
    ("ended", "Ended"),
    ("runtime", "Runtime"),
    ("exit", "Exit"),
    ("error", "Error"),
    ("log", "Log file"),
)


def _clock(timestamp: float | None) -> str:
    if timestamp is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def _exit_text(job: Job) -> str:
    if job.exit_code is None:
        return "—"
    return f"{job.exit_code} ({job.signal})" if job.signal else str(job.exit_code)


def field_values(job: Job, now: float) -> dict[str, str]:
    """The text of every field for `job` (what the detail screen shows)."""
    mode = job.mode
    if job.tmux_session:
        mode += f" · attach: tmux attach -t {job.tmux_session}"
    pid = "—" if job.pid is None else str(job.pid)
    if job.supervisor_pid is not None:
        pid += f" (supervisor {job.supervisor_pid})"
    state = job.state.value
    if job.stop_requested_at is not None and job.state.is_active:
        state += " · stop requested"
    return {
        "id": job.id,
        "name": job.name,
        "state": state,
        "command": job.command,
        "cwd": job.cwd,
        "mode": mode,
        "gpus": "not set" if job.gpus is None else (job.gpus or "none"),
        "pid": pid,
        "started": _clock(job.started_at),
        "ended": _clock(job.ended_at),
        "runtime": format_duration(job.runtime(now)),
        "exit": _exit_text(job),
        "error": job.error or "—",
        "log": job.log_path or "—",
    }


class JobFields(Grid):
    """Label/value pairs of one job; ``show(job)`` updates the values in place."""

    def __init__(self, job: Job, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.job = job

    def compose(self) -> ComposeResult:
        for key, label in FIELD_LABELS:
            yield Static(label, classes="field-label", markup=False)
            yield Static(id=f"field-{key}", classes="field-value", markup=False)

    def on_mount(self) -> None:
        self.show(self.job)
        self.set_interval(1.0, self._tick_runtime)

    def show(self, job: Job) -> None:
        """Display `job`; the state value carries a `-<state>` class for its colour."""
        self.job = job
        for key, value in field_values(job, time.time()).items():
            self.query_one(f"#field-{key}", Static).update(value)
        state_widget = self.query_one("#field-state", Static)
        for state in JobState:
            state_widget.set_class(state is job.state, f"-{state.value}")

    def _tick_runtime(self) -> None:
        if self.job.state.is_active:
            runtime = format_duration(self.job.runtime(time.time()))
            self.query_one("#field-runtime", Static).update(runtime)
