"""Client streams: a subscription resumes from its cursor on every new connection."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from tfdash.errors import AgentError
from tfdash.models import JobSpec, LaunchMode
from tfdash.services.jobs import JobsService
from tfdash.services.logs import LogFollower
from tfdash.transport.session import HostSession
from tfdash.transport.streams import StreamEvent, StreamRouter, Subscription

WAIT_S = 60.0
LINES = 400


async def agent_pid(session: HostSession) -> int:
    info = await session.call("hello", {"protocol": 1})
    return int(info["pid"])


async def test_a_stream_survives_repeated_agent_deaths_with_every_line_once(
    session: HostSession,
) -> None:
    jobs = JobsService(session)
    job = await jobs.launch(
        JobSpec(
            name="seq",
            command=f"for i in $(seq 1 {LINES}); do echo seq-$i; sleep 0.01; done",
            mode=LaunchMode.NOHUP,
        )
    )
    text: list[str] = []
    resumed = 0
    kills = 0

    async def follow() -> None:
        nonlocal resumed
        async for chunk in LogFollower(session, job.id):
            text.append(chunk.text)
            resumed += chunk.reconnected

    reader = asyncio.create_task(follow())
    # Kill the agent five times while the job prints: each is a dropped link.
    while kills < 5 and not reader.done():
        await asyncio.sleep(0.4)
        if session.status.state.value == "connected":
            os.kill(await agent_pid(session), signal.SIGKILL)
            kills += 1
    await asyncio.wait_for(reader, WAIT_S)
    assert kills == 5
    assert resumed >= 1
    assert "".join(text).splitlines() == [f"seq-{i}" for i in range(1, LINES + 1)]


async def test_subscribing_to_an_unknown_job_is_an_agent_error(session: HostSession) -> None:
    with pytest.raises(AgentError) as caught:
        await session.subscribe("logs", {"job": "20261121-233501-3f9a"})
    assert caught.value.is_not_found


async def test_a_closed_subscription_stops_and_unsubscribes(session: HostSession) -> None:
    jobs = JobsService(session)
    job = await jobs.launch(
        JobSpec(name="tick", command="while true; do echo tick; sleep 0.05; done")
    )
    sub = await session.subscribe("logs", {"job": job.id})
    events = aiter(sub)
    first = await asyncio.wait_for(anext(events), WAIT_S)
    assert first.kind == "data"
    await sub.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(events), WAIT_S)
    await jobs.stop(job.id, grace_s=1)


async def test_a_resumed_stream_starts_from_the_last_data_never_from_a_gap() -> None:
    """A gap's cursor is past the data that follows it (in the next notification): a link
    lost between the two must resume before the hole, or that data would be skipped."""
    sub = Subscription(StreamRouter("box"), "logs", {"job": "j"}, {"offset": 0}, None)
    sub._deliver(StreamEvent("data", {"offset": 10}, items=[{"text": "a\n"}]))
    sub._deliver(StreamEvent("gap", {"offset": 50}, reason="copytruncate"))
    assert sub.cursor == {"offset": 10}
    sub._deliver(StreamEvent("data", {"offset": 50}, items=[{"text": "b\n"}]))
    assert sub.cursor == {"offset": 50}
