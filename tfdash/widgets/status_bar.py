"""A one-line summary above the footer: hosts connected and jobs by state."""

from __future__ import annotations

from collections import Counter

from textual.widgets import Static

from tfdash.models import HostState, HostStatus, Job, JobState


def summarize(statuses: dict[str, HostStatus], jobs: dict[str, list[Job]]) -> str:
    """E.g. "1/1 hosts connected · 3 jobs: 1 running, 2 stopped"."""
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
    return " · ".join(parts)


class StatusBar(Static):
    """Holds the latest status of each host and job list, and shows their summary."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self._statuses: dict[str, HostStatus] = {}
        self._jobs: dict[str, list[Job]] = {}

    def show_status(self, status: HostStatus) -> None:
        self._statuses[status.name] = status
        self.update(summarize(self._statuses, self._jobs))

    def show_jobs(self, host: str, jobs: list[Job]) -> None:
        self._jobs[host] = list(jobs)
        self.update(summarize(self._statuses, self._jobs))
