"""``tail_lines``: the last N lines, read backwards, across rotated files, never the whole file."""

from __future__ import annotations

import gzip
import os

from agent.log_jobs import SEQ_COMMAND, finished_job, numbered, proc_field
from support.agent import AgentProcess

from remote_agent import protocol


def test_tail_lines_gives_the_last_whole_lines(agent: AgentProcess) -> None:
    job_id, _ = finished_job(agent, SEQ_COMMAND.format(n=500) + "; printf unterminated")
    result = agent.call("logs.read", {"id": job_id, "tail_lines": 3})
    assert result["text"] == "line-498\nline-499\nline-500\nunterminated"
    assert result["eof"] is True
    assert agent.call("logs.read", {"id": job_id, "tail_lines": 0})["text"] == "unterminated"


def test_tail_lines_goes_on_into_older_rotated_files_and_stops_at_a_gz(
    agent: AgentProcess,
) -> None:
    job_id, job_dir = finished_job(
        agent, SEQ_COMMAND.format(n=3000), log={"max_bytes": 2000, "backups": 40}
    )
    text = agent.call("logs.read", {"id": job_id, "tail_lines": 1000, "max_bytes": 1 << 20})
    assert text["text"].splitlines() == numbered(2001, 3000)
    # Compress one rotated file: reading back stops at the newer file after it.
    gz_victim = job_dir / "output.log.5"
    first_after = (job_dir / "output.log.4").read_text().splitlines()[0]
    gz_victim.with_name("output.log.5.gz").write_bytes(gzip.compress(gz_victim.read_bytes()))
    gz_victim.unlink()
    result = agent.call("logs.read", {"id": job_id, "tail_lines": 2999, "max_bytes": 1 << 20})
    assert result["text"].splitlines()[0] == first_after
    assert result["text"].endswith("line-3000\n")


def test_tail_lines_wins_over_tail_bytes_and_a_cursor_over_both(agent: AgentProcess) -> None:
    job_id, _ = finished_job(agent, SEQ_COMMAND.format(n=100))
    both = agent.call("logs.read", {"id": job_id, "tail_lines": 2, "tail_bytes": 500})
    assert both["text"] == "line-99\nline-100\n"
    start = agent.call("logs.read", {"id": job_id, "max_bytes": 7})["cursor"]
    pinned = agent.call("logs.read", {"id": job_id, "cursor": start, "tail_lines": 1})
    assert pinned["text"].startswith("line-2\n")


def test_tail_lines_on_a_2_gb_log_reads_only_the_blocks_it_needs(agent: AgentProcess) -> None:
    job_id, job_dir = finished_job(agent, "true")
    log = job_dir / "output.log"
    with log.open("r+b") as f:  # sparse: 2 GB of hole, then real lines
        f.truncate(2 * 1024**3)
        f.seek(0, os.SEEK_END)
        f.write("".join(f"line-{i}\n" for i in range(1, 5001)).encode())
    pid = agent.call("hello")["pid"]
    before = proc_field(pid, "rchar", "io")
    result = agent.call("logs.read", {"id": job_id, "tail_lines": 1000, "max_bytes": 1 << 20})
    read = proc_field(pid, "rchar", "io") - before
    assert result["text"].splitlines() == numbered(4001, 5000)
    assert read < 1_000_000, f"the agent read {read} bytes to tail 1000 lines"


def test_a_subscription_can_start_at_the_last_lines(agent: AgentProcess) -> None:
    job_id, _ = finished_job(agent, SEQ_COMMAND.format(n=50))
    reply = agent.call(
        "logs.subscribe",
        {"target": {"job": job_id}, "options": {"tail_lines": 5, "tail_bytes": 1}},
    )
    text = []
    while (note := agent.notification())["method"] != "stream.end":
        text.extend(item["text"] for item in note["params"]["items"])
    assert "".join(text).splitlines() == numbered(46, 50)
    assert reply["cursor"]["offset"] == len("".join(f"{x}\n" for x in numbered(1, 45)))


def test_bad_tail_lines_is_32602_naming_the_field(agent: AgentProcess) -> None:
    job_id, _ = finished_job(agent, "true")
    error = agent.error("logs.read", {"id": job_id, "tail_lines": -1})
    assert error["code"] == protocol.INVALID_PARAMS
    assert error["data"]["field"] == "tail_lines"
    error = agent.error(
        "logs.subscribe", {"target": {"job": job_id}, "options": {"tail_lines": "x"}}
    )
    assert error["data"]["field"] == "options.tail_lines"
