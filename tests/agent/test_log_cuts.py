"""``line_limit`` cuts over-long lines (reported, readable in full on demand); ``partial``
hands out the line being drawn; ``encoding: base64`` gives the exact bytes."""

from __future__ import annotations

import base64
import re
import shlex
import time

from agent.log_jobs import finished_job, proc_field
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support.agent import AgentProcess

from remote_agent import protocol
from remote_agent.linecut import LineCutter, utf8_boundary

KERAS_LINE = "".join(f"\r{i}/50 [{'=' * (i // 2)}] loss: 0.{i:02d}" for i in range(1, 51)) + "\n"


def test_a_long_line_is_cut_and_can_be_read_whole(agent: AgentProcess) -> None:
    command = "echo before; head -c 200000 /dev/zero | tr '\\0' y; echo; printf %s {}; echo after"
    job_id, _ = finished_job(agent, command.format(shlex.quote(KERAS_LINE)))
    result = agent.call("logs.read", {"id": job_id, "line_limit": 1000})
    assert result["text"] == "before\n" + "y" * 1000 + "\n" + KERAS_LINE + "after\n"
    [cut] = result["cuts"]  # the progress bar's short \r segments are never cut
    assert cut["at"] == len("before\n") + 1000
    whole = agent.call("logs.read", {"id": job_id, "cursor": cut["line"], "max_bytes": 1 << 20})
    assert whole["text"].split("\n")[0] == "y" * 200_000
    assert "cuts" not in agent.call("logs.read", {"id": job_id})


def test_a_cut_falls_on_a_character_boundary(agent: AgentProcess) -> None:
    job_id, _ = finished_job(agent, "printf a; for i in $(seq 1 50); do printf é; done; echo")
    result = agent.call("logs.read", {"id": job_id, "line_limit": 10})
    assert result["text"] == "aéééé\n"  # 9 bytes: the 10th would split an é
    assert result["cuts"][0]["at"] == 5


def test_a_10_mb_line_costs_the_agent_no_memory_and_the_stream_goes_on(
    agent: AgentProcess,
) -> None:
    job = agent.call(
        "jobs.launch",
        {
            "name": "big",
            "command": "echo first; sleep 0.5; head -c 10000000 /dev/zero | tr '\\0' z; echo;"
            " for i in 1 2 3; do echo next-$i; done",
            "mode": "nohup",
        },
    )
    pid = agent.call("hello")["pid"]
    high_water = proc_field(pid, "VmHWM")
    agent.call("logs.subscribe", {"target": {"job": job["id"]}, "options": {"line_limit": 65536}})
    text, cuts = [], []
    while (note := agent.notification())["method"] != "stream.end":
        for item in note["params"].get("items", []):
            cuts.extend(item.get("cuts", []))
            text.append(item["text"])
    assert "".join(text) == "first\n" + "z" * 65536 + "\nnext-1\nnext-2\nnext-3\n"
    assert len(cuts) == 1
    grown_kb = proc_field(pid, "VmHWM") - high_water
    assert grown_kb < 20_000, f"the agent's peak memory grew by {grown_kb} kB"


def test_partial_hands_out_the_line_being_drawn(agent: AgentProcess) -> None:
    job = agent.call(
        "jobs.launch",
        {
            "name": "bar",
            "command": "printf 'epoch 1\\n 10%%\\r 50%%\\xc3'; sleep 3; printf '\\xa9\\r100%%\\n'",
            "mode": "nohup",
        },
    )
    drawn, text, cursor = "epoch 1\n 10%\r 50%", "", None
    deadline = time.monotonic() + 30
    while text != drawn:  # arrives while the job sleeps; the é's first byte is held back
        result = agent.call(
            "logs.read", {"id": job["id"], "partial": True, "wait_s": 1, "cursor": cursor}
        )
        text, cursor = text + result["text"], result["cursor"]
        assert drawn.startswith(text), text
        assert time.monotonic() < deadline, text
    assert agent.call("jobs.get", {"id": job["id"]})["state"] == "running"
    rest = agent.read_log(job["id"], cursor=cursor, partial=True, wait_s=5)
    assert rest == "é\r100%\n"
    whole = agent.call("logs.read", {"id": job["id"], "wait_s": 0})
    assert whole["text"] == "epoch 1\n 10%\r 50%é\r100%\n"


def test_base64_gives_the_exact_bytes(agent: AgentProcess) -> None:
    job_id, _ = finished_job(agent, r"printf 'caf\xc3\xa9 \xff\xfe\r\nend'")
    result = agent.call("logs.read", {"id": job_id, "encoding": "base64", "max_bytes": 8 << 20})
    assert base64.b64decode(result["data"]) == b"caf\xc3\xa9 \xff\xfe\r\nend"
    assert "text" not in result
    assert result["eof"] is True
    error = agent.error("logs.read", {"id": job_id, "encoding": "base64", "line_limit": 10})
    assert (error["code"], error["data"]["field"]) == (protocol.INVALID_PARAMS, "line_limit")
    error = agent.error("logs.read", {"id": job_id, "encoding": "hex"})
    assert error["data"]["field"] == "encoding"


def reference_cut(data: bytes, limit: int) -> tuple[bytes, list[int]]:
    """The rule, applied to the whole at once: each segment keeps its first bytes."""
    out, cuts = bytearray(), []
    for index, part in enumerate(re.split(rb"([\r\n])", data)):
        if index % 2 == 0 and len(part) > limit:
            out += part[: utf8_boundary(part, limit)]
            cuts.append(len(out))
        else:
            out += part
    return bytes(out), cuts


PIECES = st.sampled_from(["a", "b", "\n", "\r", "é", "€"])


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(PIECES, max_size=80).map("".join),
    limit=st.integers(1, 12),
    sizes=st.lists(st.integers(1, 20), min_size=1, max_size=8),
    restarts=st.lists(st.booleans(), min_size=1, max_size=8),
)
# A reader resuming right where a segment is exactly at the limit: not cut yet.
@example(text="a\nbbbbb", limit=3, sizes=[3], restarts=[True])
def test_cutting_read_by_read_equals_cutting_the_whole(
    text: str, limit: int, sizes: list[int], restarts: list[bool]
) -> None:
    """However the bytes arrive (reads end on character boundaries, as the agent's do),
    and when a new reader resumes from a cursor (it sees only the bytes before it)."""
    data = text.encode()
    cutter = LineCutter(limit)
    cutter.start_file("f", 1)
    out, cuts, pos, turn = bytearray(), [], 0, 0
    while pos < len(data):
        if pos and restarts[turn % len(restarts)]:
            cutter = LineCutter(limit)
            cutter.resume("f", 1, pos, data[max(0, pos - limit - 1) : pos])
        # At least 3 bytes, so a read holds a whole character (as the agent's always do).
        chunk = data[pos : pos + 2 + sizes[turn % len(sizes)]]
        turn += 1
        keep = len(chunk) if pos + len(chunk) == len(data) else utf8_boundary(chunk, len(chunk))
        sent, made = cutter.feed("f", 1, pos, chunk[:keep])
        cuts += [len(out) + cut.at for cut in made]
        out += sent
        pos += keep
    assert (bytes(out), cuts) == reference_cut(data, limit)
