"""``since``: start at the first line written at or after a time, from the supervisor's index."""

from __future__ import annotations

import gzip
import shlex
import sys
import time

from agent.log_jobs import finished_job
from support.agent import AgentProcess

from remote_agent import protocol, timeindex

# Each line carries the time it was printed; 40 lines over about 3 s.
SCRIPT = (
    "import time\n"
    "for i in range(40):\n"
    "    print(f'{time.time():.3f} n-{i}', flush=True)\n"
    "    time.sleep(0.07)\n"
)
COMMAND = f"{shlex.quote(sys.executable)} -c {shlex.quote(SCRIPT)}"
# "To the second": a start may include lines up to a second older than asked (plus the
# supervisor's lag in reading them).
SLACK_S = 1.5


def stamps(text: str) -> list[float]:
    return [float(line.split()[0]) for line in text.splitlines()]


def test_since_starts_at_the_lines_written_from_then_on(agent: AgentProcess) -> None:
    # Rotated every dozen lines, so the index points into renamed files.
    job_id, job_dir = finished_job(agent, COMMAND, log={"max_bytes": 300, "backups": 50})
    everything = stamps(agent.read_log(job_id))
    assert len(everything) == 40
    since = everything[30]
    result = agent.call("logs.read", {"id": job_id, "since": since})
    got = stamps(result["text"])
    assert got == everything[everything.index(got[0]) :]  # whole lines, to the end
    assert got[0] >= since - SLACK_S  # not from the start
    assert everything[30] in got  # nothing at or after `since` is missed
    # Before the first record: from the oldest data; after the last: nothing.
    assert stamps(agent.read_log(job_id, since=everything[0] - 60)) == everything
    late = agent.call("logs.read", {"id": job_id, "since": time.time() + 60})
    assert late["text"] == ""
    assert late["eof"] is True
    # With a tail too, the later start wins.
    short = agent.call("logs.read", {"id": job_id, "since": since, "tail_lines": 3})
    assert stamps(short["text"]) == everything[-3:]
    long = agent.call("logs.read", {"id": job_id, "since": since, "tail_lines": 35})
    assert stamps(long["text"]) == got
    # Compressed after the fact: the index's fingerprints still find the lines.
    for rotated in job_dir.glob("output.log.*"):
        rotated.with_name(rotated.name + ".gz").write_bytes(gzip.compress(rotated.read_bytes()))
        rotated.unlink()
    again = agent.call("logs.read", {"id": job_id, "since": since})
    assert again["text"] == result["text"]
    assert again["gap"] is False
    # The index: fixed-width records, at most about one a second.
    raw = (job_dir / "output.times").read_bytes()
    assert len(raw) % timeindex.RECORD_BYTES == 0
    records = raw.splitlines()
    assert all(len(r) + 1 == timeindex.RECORD_BYTES for r in records)
    times = [float(r.split()[0]) for r in records]
    assert times == sorted(times)
    assert 3 <= len(times) <= (everything[-1] - everything[0]) / timeindex.EVERY_S + 2


def test_a_subscription_can_start_at_a_time(agent: AgentProcess) -> None:
    job_id, _ = finished_job(agent, COMMAND)
    everything = stamps(agent.read_log(job_id))
    since = everything[20]
    reply = agent.call("logs.subscribe", {"target": {"job": job_id}, "options": {"since": since}})
    text = []
    while (note := agent.notification())["method"] != "stream.end":
        text.extend(item["text"] for item in note["params"]["items"])
    got = stamps("".join(text))
    assert everything[20] in got
    assert got[0] >= since - SLACK_S
    assert reply["sub"]


def test_since_with_another_file_is_32602_pointing_to_tail_lines(agent: AgentProcess) -> None:
    job_id, _ = finished_job(agent, "echo x > other.log")
    error = agent.error("logs.read", {"id": job_id, "file": "other.log", "since": 1.0})
    assert error["code"] == protocol.INVALID_PARAMS
    assert error["data"]["field"] == "since"
    assert "tail_lines" in error["message"]
    error = agent.error(
        "logs.subscribe",
        {"target": {"job": job_id, "file": "other.log"}, "options": {"since": 1.0}},
    )
    assert error["data"]["field"] == "options.since"
