"""The jobs table: the jobs of every host, updated in place from each host's poll.

The rows of a host that is not connected stay, dimmed: the last known state of its jobs
(which keep running on the host) is worth more than an empty table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from tfdash.models import Job, JobState
from tfdash.widgets.scalar_table import format_value

# (key, label, width): fixed widths keep the columns still while cells change; None fits
# the column to its widest cell (ids all have one length; names only come with new rows).
# What a narrow terminal must show comes first: name and state; the long id comes last.
COLUMNS = (
    ("name", "Name", None),
    ("state", "State", 9),
    ("metric", "Loss", 9),
    ("runtime", "Runtime", 7),
    ("exit", "Exit", 8),
    ("started", "Started", 7),
    ("mode", "Mode", 5),
    ("host", "Host", None),
    ("id", "ID", None),
)


def format_started(started_at: float | None, now: float) -> str:
    """Local clock time if it was today, else the date ("Nov 21"): 6 cells at most."""
    if started_at is None:
        return "—"
    started = time.localtime(started_at)
    if time.strftime("%Y%m%d", started) == time.strftime("%Y%m%d", time.localtime(now)):
        return time.strftime("%H:%M", started)
    return time.strftime("%b %d", started)


def format_duration(seconds: float | None) -> str:
    """A compact duration: 42s, 3m07s, 2h05m, 3d04h."""
    if seconds is None:
        return "—"
    total = int(seconds)
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m{total % 60:02d}s"
    if total < 86400:
        return f"{total // 3600}h{total % 3600 // 60:02d}m"
    return f"{total // 86400}d{total % 86400 // 3600:02d}h"


def format_exit(job: Job) -> str:
    """The exit code, with the short name of the signal that ended the command ("143 TERM")."""
    if job.exit_code is None:
        return "—"
    if not job.signal:
        return str(job.exit_code)
    return f"{job.exit_code} {job.signal.removeprefix('SIG')}"


def row_key(host: str, job_id: str) -> str:
    """Rows are keyed by host and job id: two hosts may one day hold the same id."""
    return f"{host}/{job_id}"


class JobTable(DataTable[Text]):
    """Jobs of every host; cells change in place, rows come and go by key."""

    COMPONENT_CLASSES = {f"job-table--{state.value}" for state in JobState} | {"job-table--stale"}

    @dataclass
    class JobHighlighted(Message):
        """The cursor moved to another job (None: the table became empty)."""

        host: str | None
        job: Job | None

    @dataclass
    class JobSelected(Message):
        """Enter was pressed on a job."""

        host: str
        job: Job

    def __init__(
        self, *, focus_job: str | None = None, metric_label: str = "Loss", id: str | None = None
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._jobs: dict[str, tuple[str, Job]] = {}
        self._metrics: dict[str, str] = {}  # row key → formatted latest value
        self._pending_focus = focus_job
        self._highlighted_key: str | None = None
        self._stale_hosts: set[str] = set()
        self.border_title = "Jobs"
        for key, label, width in COLUMNS:
            self.add_column(metric_label[:9] if key == "metric" else label, width=width, key=key)

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick_runtimes)

    @property
    def highlighted(self) -> tuple[str, Job] | None:
        """The (host, job) under the cursor, if any."""
        if self._highlighted_key is None:
            return None
        return self._jobs.get(self._highlighted_key)

    def job(self, host: str, job_id: str) -> Job | None:
        """The job as last shown, if it is in the table."""
        entry = self._jobs.get(row_key(host, job_id))
        return entry[1] if entry is not None else None

    def focus_job(self, job_id: str) -> None:
        """Move the cursor to `job_id` now, or as soon as a poll brings it."""
        self._pending_focus = job_id
        self._apply_pending_focus()

    def show_jobs(self, host: str, jobs: list[Job]) -> None:
        """Make the rows of `host` match `jobs`: update, add and remove rows by key."""
        now = time.time()
        seen: set[str] = set()
        for job in jobs:
            key = row_key(host, job.id)
            seen.add(key)
            previous = self._jobs.get(key)
            self._jobs[key] = (host, job)
            if previous is None:
                self.add_row(*self._cells(host, job, now), key=key)
            elif previous[1] != job:
                self._update_row(key, previous[1], job, now)
        gone = [key for key, (owner, _) in self._jobs.items() if owner == host and key not in seen]
        for key in gone:
            del self._jobs[key]
            self._metrics.pop(key, None)
            self.remove_row(key)
        self._apply_pending_focus()
        self._announce_highlight()
        self._show_count()

    def show_metric(self, host: str, job_id: str, value: float | None) -> None:
        """The latest value of the job's tracked scalar (None: it has none)."""
        key = row_key(host, job_id)
        text = format_value(value)
        if key not in self._jobs or self._metrics.get(key) == text:
            return
        self._metrics[key] = text
        self.update_cell(key, "metric", self._styled(host, Text(text, justify="right")))

    def mark_stale(self, host: str, stale: bool) -> None:
        """Dim the rows of `host` while it is not connected (they show its last known jobs)."""
        if stale == (host in self._stale_hosts):
            return
        if stale:
            self._stale_hosts.add(host)
        else:
            self._stale_hosts.discard(host)
        now = time.time()
        for key, (owner, job) in self._jobs.items():
            if owner == host:
                for (column, _, _), cell in zip(COLUMNS, self._cells(host, job, now), strict=True):
                    self.update_cell(key, column, cell)
        self._show_count()

    def is_stale(self, host: str) -> bool:
        return host in self._stale_hosts

    def _show_count(self) -> None:
        count = len(self._jobs)
        if not count:
            self.border_subtitle = "no jobs · n launches one"
            return
        subtitle = f"{count} job" if count == 1 else f"{count} jobs"
        stale = sorted(
            host
            for host in self._stale_hosts
            if any(owner == host for owner, _ in self._jobs.values())
        )
        if stale:
            subtitle += f" · last known on {', '.join(stale)}"
        self.border_subtitle = subtitle

    def _styled(self, host: str, cell: Text) -> Text:
        """`cell`, dimmed if `host` is stale."""
        if host in self._stale_hosts:
            cell.stylize(self.get_component_rich_style("job-table--stale", partial=True))
        return cell

    def _cells(self, host: str, job: Job, now: float) -> list[Text]:
        cells = [
            Text(job.name),
            self._state_text(job.state),
            Text(self._metrics.get(row_key(host, job.id), "—"), justify="right"),
            Text(format_duration(job.runtime(now)), justify="right"),
            Text(format_exit(job), justify="right"),
            Text(format_started(job.started_at, now)),
            Text(job.mode),
            Text(host),
            Text(job.id),
        ]
        return [self._styled(host, cell) for cell in cells]

    def _update_row(self, key: str, old: Job, new: Job, now: float) -> None:
        """Touch only the cells whose text changed."""
        host = self._jobs[key][0]
        old_cells = self._cells(host, old, now)
        for (column, _, _), before, after in zip(
            COLUMNS, old_cells, self._cells(host, new, now), strict=True
        ):
            if before.plain != after.plain:
                self.update_cell(key, column, after)

    def _state_text(self, state: JobState) -> Text:
        style = self.get_component_rich_style(f"job-table--{state.value}", partial=True)
        return Text(state.value, style=style)

    def _tick_runtimes(self) -> None:
        now = time.time()
        for key, (host, job) in self._jobs.items():
            if job.state.is_active and job.started_at is not None:
                runtime = Text(format_duration(job.runtime(now)), justify="right")
                self.update_cell(key, "runtime", self._styled(host, runtime))

    def _apply_pending_focus(self) -> None:
        if self._pending_focus is None:
            return
        for key, (_, job) in self._jobs.items():
            if job.id == self._pending_focus:
                self._pending_focus = None
                self.move_cursor(row=self.get_row_index(key))
                return

    def _announce_highlight(self) -> None:
        """Post JobHighlighted when the job under the cursor changed identity or appeared."""
        key: str | None = None
        if self.row_count and self.is_valid_row_index(self.cursor_row):
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        if key == self._highlighted_key:
            return
        self._highlighted_key = key
        entry = self._jobs.get(key) if key is not None else None
        self.post_message(
            self.JobHighlighted(entry[0] if entry else None, entry[1] if entry else None)
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._announce_highlight()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        entry = self._jobs.get(_key_value(event.row_key))
        if entry is not None:
            self.post_message(self.JobSelected(*entry))

    def notify_style_update(self) -> None:
        """Restyle the state cells when the theme or the stylesheet changes."""
        super().notify_style_update()
        if self.is_mounted:
            for key, (host, job) in self._jobs.items():
                self.update_cell(key, "state", self._styled(host, self._state_text(job.state)))


def _key_value(key: RowKey) -> str:
    return key.value or ""
