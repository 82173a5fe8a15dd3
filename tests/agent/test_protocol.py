"""The agent's JSON-RPC framing and errors, over a real agent subprocess."""

from __future__ import annotations

import time

import pytest
from support.agent import AgentProcess

from remote_agent import __version__, protocol


def test_hello_reports_versions_identity_and_capabilities(agent: AgentProcess) -> None:
    info = agent.call("hello", {"protocol": protocol.PROTOCOL_VERSION, "client": {"name": "t"}})
    assert info["agent_version"] == __version__
    assert info["protocol_version"] == protocol.PROTOCOL_VERSION
    assert info["python"]["version"].count(".") == 2
    assert info["hostname"] and info["user"]
    assert info["tfdash_home"] == str(agent.home)
    caps = info["capabilities"]
    assert set(caps) == {"tmux", "nvml", "nvidia_smi", "tensorboard", "tensorflow"}
    # This machine has tmux and the venv has tensorflow-cpu and tensorboard, no GPU tools.
    assert caps["tmux"]
    assert caps["nvidia_smi"] is None


def test_protocol_mismatch_says_which_side_to_upgrade(agent: AgentProcess) -> None:
    newer = agent.error("hello", {"protocol": protocol.PROTOCOL_VERSION + 1})
    assert newer["code"] == protocol.PROTOCOL_MISMATCH
    assert "upgrade the agent" in newer["message"]
    older = agent.error("hello", {"protocol": 0})
    assert "upgrade tfdash on the laptop" in older["message"]


def test_malformed_lines_get_errors_and_the_agent_keeps_serving(agent: AgentProcess) -> None:
    agent.send_raw(b"this is not json\n")
    assert agent.reply(None)["error"]["code"] == protocol.PARSE_ERROR
    agent.send_raw(b"\xff\xfe\n")
    assert agent.reply(None)["error"]["code"] == protocol.PARSE_ERROR
    agent.send_raw(b"[1, 2, 3]\n")
    assert agent.reply(None)["error"]["code"] == protocol.INVALID_REQUEST
    agent.send({"id": 41, "method": "ping"})  # no "jsonrpc": "2.0"
    assert agent.reply(41)["error"]["code"] == protocol.INVALID_REQUEST
    agent.send({"jsonrpc": "2.0", "id": 42, "method": "ping", "params": [1]})
    assert agent.reply(42)["error"]["code"] == protocol.INVALID_REQUEST
    agent.send_raw(b"\n   \n")  # blank lines are ignored
    assert "time" in agent.call("ping")


def test_an_over_long_line_is_discarded_and_serving_goes_on(agent: AgentProcess) -> None:
    agent.send_raw(b'{"jsonrpc": "2.0", "id": 1, "x": "' + b"a" * (protocol.MAX_LINE_BYTES + 10))
    agent.send_raw(b'"}\n')
    error = agent.reply(None)["error"]
    assert error["code"] == protocol.PARSE_ERROR
    assert "longer than" in error["message"]
    assert "time" in agent.call("ping")


def test_unknown_method_is_32601_with_the_known_ones(agent: AgentProcess) -> None:
    error = agent.error("jobs.explode", {})
    assert error["code"] == protocol.METHOD_NOT_FOUND
    assert error["data"] == {"method": "jobs.explode"}
    assert "jobs.launch" in error["message"]


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"command": "true"}, "name", "missing required param 'name'"),
        ({"name": 5, "command": "true"}, "name", "must be a string, got a number"),
        ({"name": "x", "command": "  "}, "command", "command is empty"),
        ({"name": "x", "command": "true", "mode": "screen"}, "mode", "one of tmux, nohup, auto"),
        ({"name": "x", "command": "true", "env": {"A B": "1"}}, "env", "not a valid environment"),
        ({"name": "x", "command": "true", "env": {"A": 1}}, "env", "must be a string"),
        ({"name": "x", "command": "true", "gpus": "0;rm"}, "gpus", "list of GPU indexes"),
        ({"name": "x", "command": "true", "log": {"max_bytes": -1}}, "max_bytes", "at least 0"),
        ({"name": "x", "command": "true", "request_id": "a b"}, "request_id", "request_id"),
    ],
)
def test_bad_launch_params_are_32602_naming_the_field(
    agent: AgentProcess, params: dict[str, object], field: str, words: str
) -> None:
    error = agent.error("jobs.launch", params)
    assert error["code"] == protocol.INVALID_PARAMS
    assert error["data"]["field"] == field
    assert words in error["message"]
    assert not list((agent.home / "jobs").glob("*"))


def test_stop_grace_must_be_a_finite_number(agent: AgentProcess) -> None:
    error = agent.error("jobs.stop", {"id": "20261121-233501-3f9a", "grace_s": True})
    assert error["code"] == protocol.INVALID_PARAMS
    assert "grace_s" in error["message"]


def test_notifications_get_no_reply(agent: AgentProcess) -> None:
    agent.send({"jsonrpc": "2.0", "method": "ping"})
    agent.send({"jsonrpc": "2.0", "method": "no.such.method"})
    request_id = agent.request("ping")
    assert agent.reply(request_id)["id"] == request_id
    assert agent._lines.empty()


def test_a_long_poll_never_holds_up_other_requests(agent: AgentProcess) -> None:
    job = agent.call("jobs.launch", {"name": "quiet", "command": "sleep 30", "mode": "nohup"})
    poll = agent.request("logs.read", {"id": job["id"], "wait_s": 20})
    started = time.monotonic()
    assert "time" in agent.call("ping")
    assert agent.call("jobs.get", {"id": job["id"]})["state"] == "running"
    # Answered while the long poll still waits (it would return after 20 s).
    assert time.monotonic() - started < 15
    agent.send({"jsonrpc": "2.0", "method": protocol.CANCEL_METHOD, "params": {"id": poll}})
    assert agent.reply(poll)["error"]["code"] == protocol.REQUEST_CANCELLED
    agent.call("jobs.stop", {"id": job["id"], "grace_s": 1})


def test_end_of_input_ends_the_agent_cleanly(agent: AgentProcess) -> None:
    agent.call("ping")
    assert agent.close() == 0
