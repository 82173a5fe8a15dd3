"""AlertsService over a real agent: new alerts once, across a dropped link and restarts."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import sys
from pathlib import Path

from agent.scalar_files import v2_event
from client.conftest import SessionFactory
from support.fake_gpu import FakeGpu, FakeGpus, fake_gpu_env, fake_uuid

from tfdash.models import JobSpec, JobState, LaunchMode
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
    assert not cursor.exists()  # nothing changed: nothing written (it is asked every second)
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
    written = cursor.stat().st_mtime_ns
    assert await service.fetch_new() == []
    service.mark_delivered()
    assert cursor.stat().st_mtime_ns == written
    assert await AlertsService(session, cursor).fetch_new() == []  # a restarted dashboard


async def test_every_kind_raised_while_away_is_delivered_on_reconnect(
    session_factory: SessionFactory, tmp_path: Path
) -> None:
    """The laptop leaves, one job raises every kind of alert, the next session gets them."""
    gpus = tmp_path / "gpus.json"
    FakeGpus(gpus).write([FakeGpu(uuid=fake_uuid(0), util_gpu=0)])  # never busy
    env = {**fake_gpu_env(gpus), "TFDASH_GPU_IDLE_SECONDS": "1"}
    cursor = tmp_path / "state" / "local.json"
    session = await session_factory(env=env)
    service = AlertsService(session, cursor)
    await service.fetch_new()
    service.mark_delivered()
    events = tmp_path / "nan-events"
    events.write_bytes(v2_event(1, "epoch_loss", 0.5) + v2_event(7, "epoch_loss", float("nan")))
    cwd = tmp_path / "work"
    (cwd / "logs" / "train").mkdir(parents=True)
    raise_error = shlex.quote(sys.executable) + " -c 'raise ValueError(\"bad shape\")'"
    command = (
        f"cat {shlex.quote(str(events))} > logs/train/events.out.tfevents.1.box; "
        "echo 'ResourceExhaustedError: OOM when allocating tensor with shape[512,512]'; "
        f"sleep 5; {raise_error}; exit 3"
    )
    spec = JobSpec(
        name="doomed",
        command=command,
        cwd=str(cwd),
        logdir="logs",
        gpus="0",
        mode=LaunchMode.NOHUP,
    )
    jobs = JobsService(session)
    job = await jobs.launch(spec)
    await session.close()  # the laptop is closed while the job goes wrong

    later = await session_factory(env=env)
    assert (await JobsService(later).wait(job.id, timeout=WAIT_S)).state is JobState.FAILED
    new = await AlertsService(later, cursor).fetch_new()
    assert {(a.kind, a.severity) for a in new} == {
        ("oom", "error"),
        ("gpu_idle", "warning"),
        ("traceback", "error"),
        ("nan", "error"),
        ("ended", "error"),
    }
    assert {a.job for a in new} == {job.id}
    messages = {a.kind: a.message for a in new}
    assert messages["traceback"] == "ValueError: bad shape"
    assert messages["nan"] == "epoch_loss is NaN at step 7 (run train)"
    assert messages["ended"] == "doomed failed (exit 3)"


def test_a_damaged_cursor_file_means_nothing_was_shown(tmp_path: Path) -> None:
    path = tmp_path / "local.json"
    path.write_text("{not json")
    assert load_cursor(path) == {}
    path.write_text('{"20261121-233501-3f9a": 2, "x": -1, "y": true}')
    assert load_cursor(path) == {"20261121-233501-3f9a": 2}
