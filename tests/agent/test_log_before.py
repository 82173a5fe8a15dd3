"""``logs.before`` pages earlier lines in for scrolling up; ``logs.files`` lists the set."""

from __future__ import annotations

import gzip
from typing import Any

from agent.log_jobs import SEQ_COMMAND, finished_job, numbered
from support.agent import AgentProcess

from remote_agent import logpages, protocol


def tail_start(agent: AgentProcess, job_id: str, lines: int) -> dict[str, Any]:
    """The cursor of the first of the last ``lines`` lines (a subscription names its start)."""
    reply = agent.call(
        "logs.subscribe", {"target": {"job": job_id}, "options": {"tail_lines": lines}}
    )
    while agent.notification()["method"] != "stream.end":  # the job has ended: so does this
        pass
    cursor: dict[str, Any] = reply["cursor"]
    return cursor


def page_back(
    agent: AgentProcess, job_id: str, cursor: dict[str, Any], lines: int, **params: Any
) -> tuple[list[str], list[dict[str, Any]]]:
    """Every page before ``cursor`` until ``at_start``: the lines, earliest first; the pages."""
    pages: list[dict[str, Any]] = []
    while True:
        page = agent.call("logs.before", {"id": job_id, "cursor": cursor, "lines": lines, **params})
        assert page["text"].count("\n") <= lines
        pages.insert(0, page)
        cursor = page["cursor"]
        if page["at_start"]:
            return "".join(p["text"] for p in pages).splitlines(), pages


def test_scrolling_up_from_the_tail_reaches_the_first_line_across_rotation(
    agent: AgentProcess,
) -> None:
    job_id, job_dir = finished_job(
        agent, SEQ_COMMAND.format(n=2000), log={"max_bytes": 3000, "backups": 100}
    )
    assert len(list(job_dir.glob("output.log.*"))) > 5
    lines, pages = page_back(agent, job_id, tail_start(agent, job_id, 10), 77)
    assert lines == numbered(1, 1990)
    assert all(p["text"].count("\n") == 77 for p in pages[1:])  # full pages, but the first
    # The last page's cursor is where reading forward starts again: nothing lost between.
    again = agent.call("logs.read", {"id": job_id, "cursor": pages[1]["cursor"], "max_bytes": 10})
    assert again["text"] == pages[1]["text"][: len(again["text"])]


def test_scrolling_up_stops_before_a_compressed_file(agent: AgentProcess) -> None:
    job_id, job_dir = finished_job(
        agent, SEQ_COMMAND.format(n=1000), log={"max_bytes": 2000, "backups": 100}
    )
    victim = job_dir / "output.log.3"
    first_kept = (job_dir / "output.log.2").read_text().splitlines()[0]
    victim.with_name("output.log.3.gz").write_bytes(gzip.compress(victim.read_bytes()))
    victim.unlink()
    lines, _ = page_back(agent, job_id, tail_start(agent, job_id, 1), 50)
    assert lines[0] == first_kept
    assert lines[-1] == "line-999"


def test_long_lines_are_cut_and_a_page_is_at_most_8_mib(agent: AgentProcess) -> None:
    job_id, _ = finished_job(
        agent, "for i in 1 2 3 4 5 6; do head -c 3000000 /dev/zero | tr '\\0' $i; echo; done"
    )
    end = agent.call("logs.read", {"id": job_id, "tail_lines": 0})["cursor"]
    cut = agent.call("logs.before", {"id": job_id, "cursor": end, "lines": 6, "line_limit": 1000})
    assert cut["text"].splitlines() == [str(i) * 1000 for i in range(1, 7)]
    assert [c["at"] for c in cut["cuts"]] == [i * 1001 + 1000 for i in range(6)]
    assert cut["at_start"] is True
    whole = agent.call("logs.before", {"id": job_id, "cursor": end, "lines": 6})
    assert len(whole["text"].encode()) <= logpages.MAX_BEFORE_BYTES
    assert whole["text"].splitlines() == ["5" * 3_000_000, "6" * 3_000_000]
    assert whole["at_start"] is False
    one = agent.call("logs.before", {"id": job_id, "cursor": whole["cursor"], "lines": 1})
    assert one["text"] == "4" * 3_000_000 + "\n"


def test_logs_files_lists_the_set_oldest_first(agent: AgentProcess) -> None:
    job_id, job_dir = finished_job(
        agent, SEQ_COMMAND.format(n=600), log={"max_bytes": 1000, "backups": 3}
    )
    listing = agent.call("logs.files", {"id": job_id})
    names = [f["name"] for f in listing["files"]]
    assert names == ["output.log.3", "output.log.2", "output.log.1", "output.log"]
    sizes = {p.name: p.stat().st_size for p in job_dir.glob("output.log*")}
    assert {f["name"]: f["size"] for f in listing["files"]} == sizes
    assert listing["total_bytes"] == sum(sizes.values())
    assert all(not f["compressed"] and f["inode"] > 0 and f["mtime"] > 0 for f in listing["files"])


def test_bad_before_params_are_32602_naming_the_field(agent: AgentProcess) -> None:
    job_id, _ = finished_job(agent, "echo x")
    end = agent.call("logs.read", {"id": job_id})["cursor"]
    for params, field in (
        ({"lines": 5}, "cursor"),
        ({"cursor": end}, "lines"),
        ({"cursor": end, "lines": 0}, "lines"),
        ({"cursor": end, "lines": 5, "line_limit": -1}, "line_limit"),
    ):
        error = agent.error("logs.before", {"id": job_id, **params})
        assert (error["code"], error["data"]["field"]) == (protocol.INVALID_PARAMS, field)
