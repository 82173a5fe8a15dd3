"""A one-line summary above the footer: hosts connected, jobs by state, unread alerts."""

from __future__ import annotations

from collections import Counter

from textual.widgets import Static

from tfdash.models import HostState, HostStatus, Job, JobState


def summarize(
    statuses: dict[str, HostStatus], jobs: dict[str, list[Job]], unread_alerts: int = 0
) -> str:
    """E.g. "1/1 hosts connected · 3 jobs: 1 running, 2 stopped · 2 alerts (!)"."""
    connected = sum(1 for status in statuses.values() if status.state is HostState.CONNECTED)
    parts = [f"{connected}/{len(statuses)} hosts connected"]
    all_jobs = [job for host_jobs in jobs.values() for job in host_jobs]
    if not all_jobs:
        parts.append("no jobs")
    else:
        counts = Counter(job.state for job in all_jobs)
        by_state = ", ".join(
            f"{counts[state]} {state.value}" for state in JobState if counts[state]
        )
        noun = "job" if len(all_jobs) == 1 else "jobs"
        parts.append(f"{len(all_jobs)} {noun}: {by_state}")
    if unread_alerts:
        noun = "alert" if unread_alerts == 1 else "alerts"
        parts.append(f"{unread_alerts} {noun} (!)")
    return " · ".join(parts)


class StatusBar(Static):
    """Holds the latest status of each host and job list, and shows their summary."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self._statuses: dict[str, HostStatus] = {}
        self._jobs: dict[str, list[Job]] = {}
        self._unread = 0

    def _refresh_summary(self) -> None:
        self.update(summarize(self._statuses, self._jobs, self._unread))

    def show_status(self, status: HostStatus) -> None:
        self._statuses[status.name] = status
        self._refresh_summary()

    def show_jobs(self, host: str, jobs: list[Job]) -> None:
        self._jobs[host] = list(jobs)
        self._refresh_summary()

    def show_unread_alerts(self, count: int) -> None:
        """The alerts shown since the alerts list (``!``) was last opened."""
        self._unread = count
        self._refresh_summary()
