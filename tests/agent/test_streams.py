"""Subscriptions: ``logs.subscribe`` pushes batches with cursors; resuming loses nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from support.agent import AgentProcess

from remote_agent import protocol, streams


def collect(agent: AgentProcess, sub: str) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """Text of every stream.data for ``sub`` until its stream.end; the last cursor; all."""
    text, cursor, seen = [], None, []
    while True:
        note = agent.notification()
        seen.append(note)
        params = note["params"]
        assert params["sub"] == sub
        if note["method"] == "stream.end":
            return "".join(text), params["cursor"], seen
        if note["method"] == "stream.data":
            text.extend(item["text"] for item in params["items"])
            cursor = params["cursor"]
            assert cursor is not None


def test_a_subscription_streams_a_job_to_its_end(agent: AgentProcess) -> None:
    job = agent.call(
        "jobs.launch",
        {"name": "s", "command": "for i in $(seq 1 50); do echo n-$i; sleep 0.01; done"},
    )
    reply = agent.call("logs.subscribe", {"target": {"job": job["id"]}})
    assert reply["sub"].startswith("logs-")
    text, _, seen = collect(agent, reply["sub"])
    assert text.splitlines() == [f"n-{i}" for i in range(1, 51)]
    assert seen[-1]["params"]["reason"] == "ended"
    for note in seen[:-1]:
        for item in note["params"]["items"]:
            assert isinstance(item["t"], float)


def test_resuming_from_the_last_cursor_gives_every_line_exactly_once(
    agent_factory: Callable[..., AgentProcess],
) -> None:
    first = agent_factory()
    job = first.call(
        "jobs.launch",
        {
            "name": "seq",
            "command": "for i in $(seq 1 300); do echo seq-$i; sleep 0.005; done",
            "log": {"max_bytes": 1500, "backups": 100},
        },
    )
    first.call("logs.subscribe", {"target": {"job": job["id"]}})
    received, cursor = [], None
    while "".join(received).count("\n") < 40:
        note = first.notification()
        assert note["method"] == "stream.data", note
        received.extend(item["text"] for item in note["params"]["items"])
        cursor = note["params"]["cursor"]
    first.proc.kill()  # the link dies mid-stream
    first.close()
    second = agent_factory()
    again = second.call("logs.subscribe", {"target": {"job": job["id"]}, "cursor": cursor})
    assert again["cursor"] == cursor
    rest, _, _ = collect(second, again["sub"])
    lines = ("".join(received) + rest).splitlines()
    assert lines == [f"seq-{i}" for i in range(1, 301)]


def test_batches_are_bounded_by_bytes(agent: AgentProcess) -> None:
    job = agent.call("jobs.launch", {"name": "big", "command": "seq 1 200000"})
    agent.wait_final(job["id"])
    sub = agent.call("logs.subscribe", {"target": {"job": job["id"]}})["sub"]
    text, _, seen = collect(agent, sub)
    assert text == "".join(f"{i}\n" for i in range(1, 200001))
    sizes = [sum(len(i["text"]) for i in n["params"]["items"]) for n in seen[:-1]]
    assert max(sizes) <= streams.BATCH_BYTES
    assert len(sizes) >= len(text) // streams.BATCH_BYTES


def test_the_subscribe_reply_comes_before_the_first_data(agent: AgentProcess) -> None:
    job = agent.call("jobs.launch", {"name": "q", "command": "echo ready"})
    agent.wait_final(job["id"])
    request = agent.request("logs.subscribe", {"target": {"job": job["id"]}})
    first = agent._lines.get(timeout=30)
    assert first is not None
    assert first.get("id") == request


def test_tail_bytes_starts_near_the_end(agent: AgentProcess) -> None:
    job = agent.call("jobs.launch", {"name": "t", "command": "seq 1 1000"})
    agent.wait_final(job["id"])
    reply = agent.call(
        "logs.subscribe", {"target": {"job": job["id"]}, "options": {"tail_bytes": 20}}
    )
    text, _, _ = collect(agent, reply["sub"])
    assert text.splitlines()[-1] == "1000"
    assert len(text) <= 20


def test_unsubscribe_stops_the_flow(agent: AgentProcess) -> None:
    job = agent.call(
        "jobs.launch", {"name": "u", "command": "while true; do echo x; sleep 0.05; done"}
    )
    sub = agent.call("logs.subscribe", {"target": {"job": job["id"]}})["sub"]
    agent.notification()
    assert agent.call("unsubscribe", {"sub": sub}) == {"sub": sub, "unsubscribed": True}
    # Whatever was already in flight drains; then nothing more arrives for this sub.
    while not agent.notifications.empty():
        agent.notifications.get()
    assert "time" in agent.call("ping")
    error = agent.error("unsubscribe", {"sub": sub})
    assert error["code"] == protocol.NOT_FOUND
    agent.call("jobs.stop", {"id": job["id"], "grace_s": 1})


def test_subscribing_to_an_unknown_job_is_32001(agent: AgentProcess) -> None:
    error = agent.error("logs.subscribe", {"target": {"job": "20261121-233501-3f9a"}})
    assert error["code"] == protocol.NOT_FOUND
    error = agent.error("logs.subscribe", {"target": {}})
    assert error["code"] == protocol.INVALID_PARAMS
