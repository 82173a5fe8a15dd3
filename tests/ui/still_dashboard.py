"""A dashboard that draws the same picture on every run, for snapshots and looks tests:
one host that never connects (no agent, so no versions, pids or polls) and fixed jobs
that ended long ago (so no clock-dependent runtime shows)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tfdash.app import TfdashApp, make_app
from tfdash.config_ui import KeySettings, UiSettings
from tfdash.models import Job, JobState, LaunchMode
from tfdash.transport.base import Channel, Transport
from tfdash.transport.manager import HostManager
from tfdash.transport.session import HostSession

HOST = "gpu-box"
# 2001-09-09 12:00 UTC: the same calendar day in every time zone's "Sep 09" column.
LONG_AGO = 1_000_036_800.0


class NeverConnects(Transport):
    """A transport whose connection attempt never ends: the host stays "connecting…"."""

    async def open(self) -> Channel:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def fixed_jobs() -> list[Job]:
    """Three jobs that ended long ago: fixed ids, names, states and runtimes."""

    def job(number: int, name: str, state: JobState, minutes: int, code: int | None) -> Job:
        started = LONG_AGO + number * 3600
        return Job(
            id=f"20010909-12000{number}-{name}",
            name=name,
            command=f"python train.py --run {name}",
            cwd="/workspace",
            state=state,
            mode=LaunchMode.NOHUP.value,
            created_at=started,
            started_at=started,
            ended_at=started + minutes * 60,
            exit_code=code,
        )

    return [
        job(1, "resnet-baseline", JobState.SUCCEEDED, 95, 0),
        job(2, "resnet-lr-sweep", JobState.FAILED, 12, 1),
        job(3, "bert-finetune", JobState.STOPPED, 47, None),
    ]


def still_app(
    *,
    keys: KeySettings | None = None,
    ui: UiSettings | None = None,
    state_path: Path | None = None,
) -> TfdashApp:
    """The dashboard over one never-connecting host."""
    manager = HostManager()
    manager.add(HostSession(HOST, NeverConnects(), reconnect=False))
    return make_app(manager, keys=keys, ui=ui, state_path=state_path)


async def show_fixed_jobs(pilot: Pilot[Any]) -> None:
    """Put the fixed jobs in the table, as a poll would, and let the screen settle."""
    app = pilot.app
    assert isinstance(app, TfdashApp)
    await pilot.pause()
    app.main_screen.show_jobs(HOST, fixed_jobs())
    app.main_screen.jobs.focus_job(fixed_jobs()[0].id)
    await pilot.pause()
    await pilot.pause()
