"""JobsService and LogFollower with real jobs started by a real local agent."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from remote_agent import protocol
from tfdash.errors import AgentError, ConnectionFailed, RequestTimeout, UsageError
from tfdash.models import JobSpec, JobState, LaunchMode, LogChunk
from tfdash.services.jobs import JobsService
from tfdash.services.logs import LogFollower
from tfdash.transport.session import HostSession

WAIT_S = 30.0


def nohup(name: str, command: str, cwd: Path | None = None) -> JobSpec:
    return JobSpec(
        name=name, command=command, mode=LaunchMode.NOHUP, cwd=None if cwd is None else str(cwd)
    )


async def collect(follower: LogFollower) -> list[LogChunk]:
    return [chunk async for chunk in follower]


def numbered(first: int, last: int) -> str:
    return "".join(f"line {n}\n" for n in range(first, last + 1))


async def test_launch_list_resolve_stop_wait_remove(session: HostSession) -> None:
    jobs = JobsService(session)
    job = await jobs.launch(nohup("sleeper", "echo hi; sleep 30"))
    assert job.state in (JobState.STARTING, JobState.RUNNING)
    assert job.mode == "nohup"
    assert job.request_id is not None and job.request_id.startswith("c-")
    assert [listed.id for listed in await jobs.list()] == [job.id]
    assert (await jobs.get(job.id)).name == "sleeper"
    assert (await jobs.resolve(job.id)).id == job.id
    assert (await jobs.resolve("sleeper")).id == job.id
    assert (await jobs.resolve(job.id[:6])).id == job.id

    with pytest.raises(AgentError) as refused:
        await jobs.remove(job.id)
    assert refused.value.code == protocol.CONFLICT

    stopping = await jobs.stop(job.id, grace_s=5)
    assert stopping.stop_requested_at is not None
    ended = await jobs.wait(job.id, timeout=WAIT_S, poll_s=0.1)
    assert ended.state is JobState.STOPPED
    assert ended.exit_code == 128 + signal.SIGTERM
    assert ended.signal == "SIGTERM"

    await jobs.remove(job.id)
    assert await jobs.list() == []
    with pytest.raises(AgentError) as missing:
        await jobs.get(job.id)
    assert missing.value.is_not_found


async def test_wait_returns_a_finished_job_and_times_out_on_a_running_one(
    session: HostSession,
) -> None:
    jobs = JobsService(session)
    quick = await jobs.launch(nohup("quick", "exit 3"))
    done = await jobs.wait(quick.id, timeout=WAIT_S, poll_s=0.1)
    assert done.state is JobState.FAILED
    assert done.exit_code == 3
    slow = await jobs.launch(nohup("slow", "sleep 30"))
    with pytest.raises(RequestTimeout, match=f"job {slow.id} is still running"):
        await jobs.wait(slow.id, timeout=0.3, poll_s=0.1)


async def test_resolve_refuses_ambiguous_and_unknown_references(session: HostSession) -> None:
    jobs = JobsService(session)
    first = await jobs.launch(nohup("twin", "true"))
    second = await jobs.launch(nohup("twin", "true"))
    with pytest.raises(UsageError) as ambiguous:
        await jobs.resolve("twin")
    assert first.id in ambiguous.value.message
    assert second.id in ambiguous.value.message
    with pytest.raises(UsageError, match="no job 'ghost'"):
        await jobs.resolve("ghost")
    with pytest.raises(UsageError, match="at least 4"):
        await jobs.resolve(first.id[:3])  # a prefix this short is not used
    assert (await jobs.resolve(second.id)).id == second.id


async def test_a_launch_whose_reply_was_lost_is_retried_with_the_same_request_id(
    session: HostSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_call = session.call
    sent: list[dict[str, Any]] = []

    async def reply_lost_once(method: str, params: Any = None, **options: Any) -> Any:
        result = await real_call(method, params, **options)
        if method == "jobs.launch":
            sent.append(dict(params))
            if len(sent) == 1:
                raise ConnectionFailed("the link dropped before the reply arrived")
        return result

    monkeypatch.setattr(session, "call", reply_lost_once)
    job = await JobsService(session).launch(nohup("once", "sleep 30"))
    assert len(sent) == 2
    assert sent[0]["request_id"] == sent[1]["request_id"] == job.request_id
    jobs = await JobsService(session).list()
    assert [listed.id for listed in jobs] == [job.id]  # the agent did it only once


async def test_a_launch_waits_for_a_reconnection(session: HostSession) -> None:
    assert session.info is not None and session.info.agent_pid is not None
    os.kill(session.info.agent_pid, signal.SIGKILL)
    job = await JobsService(session).launch(nohup("after-drop", "sleep 30"))
    assert [listed.id for listed in await JobsService(session).list()] == [job.id]


async def test_a_failed_launch_is_an_agent_error(session: HostSession, tmp_path: Path) -> None:
    with pytest.raises(AgentError) as caught:
        await JobsService(session).launch(nohup("nowhere", "true", cwd=tmp_path / "missing"))
    assert caught.value.code == protocol.INVALID_PARAMS
    assert "missing" in caught.value.message


async def test_log_follower_reads_everything_until_eof(session: HostSession) -> None:
    jobs = JobsService(session)
    job = await jobs.launch(nohup("counter", "for i in $(seq 1 2000); do echo line $i; done"))
    chunks = await collect(LogFollower(session, job.id, wait_s=0.5))
    assert "".join(chunk.text for chunk in chunks) == numbered(1, 2000)
    assert chunks[-1].eof
    assert chunks[-1].job_state is JobState.SUCCEEDED
    assert all(not chunk.eof for chunk in chunks[:-1])


async def test_a_cursor_resumes_without_repeating_lines(
    session: HostSession, tmp_path: Path
) -> None:
    script = (
        "seq -f 'line %g' 1 100; while [ ! -e go ]; do sleep 0.05; done; seq -f 'line %g' 101 200"
    )
    job = await JobsService(session).launch(nohup("two-halves", script, cwd=tmp_path))
    first = LogFollower(session, job.id, wait_s=0.5)
    text = ""
    async for chunk in first:
        text += chunk.text
        if text.endswith("line 100\n"):
            break
    assert text == numbered(1, 100)
    cursor = first.cursor
    assert cursor is not None
    (tmp_path / "go").touch()
    rest = await collect(LogFollower(session, job.id, cursor=cursor, wait_s=0.5))
    assert "".join(chunk.text for chunk in rest) == numbered(101, 200)


async def test_following_survives_a_reconnection(session: HostSession, tmp_path: Path) -> None:
    script = (
        "seq -f 'line %g' 1 100; while [ ! -e go ]; do sleep 0.05; done; seq -f 'line %g' 101 200"
    )
    job = await JobsService(session).launch(nohup("through-a-drop", script, cwd=tmp_path))
    assert session.info is not None
    agent_pid = session.info.agent_pid
    assert agent_pid is not None
    text = ""
    async for chunk in LogFollower(session, job.id, wait_s=5.0):
        text += chunk.text
        if text.endswith("line 100\n") and agent_pid == session.info.agent_pid:
            os.kill(agent_pid, signal.SIGKILL)  # mid long poll
            await asyncio.sleep(0.2)
            (tmp_path / "go").touch()
    assert text == numbered(1, 200)
    assert session.info.agent_pid != agent_pid


async def test_without_follow_the_follower_stops_when_caught_up(session: HostSession) -> None:
    jobs = JobsService(session)
    job = await jobs.launch(nohup("still-running", "seq -f 'line %g' 1 50; sleep 30"))
    text = ""
    async for chunk in LogFollower(session, job.id, wait_s=0.5):
        text += chunk.text
        if text.endswith("line 50\n"):
            break
    chunks = await asyncio.wait_for(collect(LogFollower(session, job.id, follow=False)), WAIT_S)
    assert "".join(chunk.text for chunk in chunks) == numbered(1, 50)
    assert not any(chunk.eof for chunk in chunks)


async def test_tail_bytes_starts_at_a_line_near_the_end(session: HostSession) -> None:
    jobs = JobsService(session)
    job = await jobs.launch(nohup("long", "seq -f 'line %g' 1 1000"))
    await jobs.wait(job.id, timeout=WAIT_S, poll_s=0.1)
    chunks = await collect(LogFollower(session, job.id, tail_bytes=100, follow=False))
    text = "".join(chunk.text for chunk in chunks)
    assert text.endswith("line 1000\n")
    assert text.startswith("line ")
    assert 0 < len(text) <= 100
    assert text in numbered(1, 1000)
