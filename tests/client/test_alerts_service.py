"""AlertsService over a real agent: new alerts once, across a dropped link and restarts."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from tfdash.models import JobSpec, LaunchMode
from tfdash.services.alerts import AlertsService, load_cursor
from tfdash.services.jobs import JobsService
from tfdash.transport.session import HostSession

WAIT_S = 60.0


async def ended_alerts(service: AlertsService) -> list[str]:
    return [a.message for a in await service.list_all() if a.kind == "ended"]


async def test_an_alert_raised_during_a_drop_is_delivered_once(
    session: HostSession, tmp_path: Path
) -> None:
    cursor = tmp_path / "state" / "local.json"
    service = AlertsService(session, cursor)
    assert await service.fetch_new() == []
    service.mark_delivered()
    spec = JobSpec(name="late", command="sleep 1; exit 4", mode=LaunchMode.NOHUP)
    job = await JobsService(session).launch(spec)
    assert session.info is not None and session.info.agent_pid is not None
    os.kill(session.info.agent_pid, signal.SIGKILL)  # the link drops while the job ends
    async with asyncio.timeout(WAIT_S):
        while not await ended_alerts(service):  # asked again once the session reconnected
            await asyncio.sleep(0.1)
    new = await service.fetch_new()
    assert [(a.job, a.message, a.severity, a.host) for a in new] == [
        (job.id, "late failed (exit 4)", "error", "local")
    ]
    assert await service.fetch_new() == new  # not delivered yet: offered again
    service.mark_delivered()
    assert load_cursor(cursor) == {job.id: 1}
    assert await AlertsService(session, cursor).fetch_new() == []  # a restarted dashboard


def test_a_damaged_cursor_file_means_nothing_was_shown(tmp_path: Path) -> None:
    path = tmp_path / "local.json"
    path.write_text("{not json")
    assert load_cursor(path) == {}
    path.write_text('{"20261121-233501-3f9a": 2, "x": -1, "y": true}')
    assert load_cursor(path) == {"20261121-233501-3f9a": 2}
