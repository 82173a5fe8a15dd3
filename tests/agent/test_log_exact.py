"""``logs.read`` with ``encoding: "exact"``, and pages served from read-ahead."""

from __future__ import annotations

import base64
from typing import Any

from agent.log_jobs import finished_job
from support.agent import AgentProcess


def exact_bytes(page: dict[str, Any]) -> bytes:
    if "text" in page:
        return str(page["text"]).encode("utf-8")
    return base64.b64decode(page["data"])


def read_exact(agent: AgentProcess, job_id: str, cursor: Any = None) -> list[dict[str, Any]]:
    """Every page of the log from ``cursor``, read with ``exact`` until ``eof``."""
    pages = []
    while True:
        params = {"id": job_id, "encoding": "exact", "cursor": cursor}
        page = agent.call("logs.read", params)
        pages.append(page)
        cursor = page["cursor"]
        if page["eof"]:
            return pages


def test_utf8_comes_as_text_and_other_bytes_as_base64(agent: AgentProcess) -> None:
    job_id, job_dir = finished_job(
        agent, r"printf 'caf\xc3\xa9 \x1b[1m\b\r\"\\ ok\n'; sleep 0.3; printf 'bad \xff\n'"
    )
    just_the_first_line = {"id": job_id, "encoding": "exact", "max_bytes": 18}
    first = agent.call("logs.read", just_the_first_line)
    assert first["text"] == 'café \x1b[1m\b\r"\\ ok\n'
    assert "data" not in first
    rest = read_exact(agent, job_id, cursor=first["cursor"])
    assert base64.b64decode(rest[0]["data"]) == b"bad \xff\n"
    assert b"".join(exact_bytes(p) for p in [first, *rest]) == (job_dir / "output.log").read_bytes()


def test_exact_refuses_line_limit(agent: AgentProcess) -> None:
    job_id, _ = finished_job(agent, "echo hi")
    params = {"id": job_id, "encoding": "exact", "line_limit": 10}
    error = agent.error("logs.read", params)
    assert (error["code"], error["data"]["field"]) == (-32602, "line_limit")


def test_full_pages_of_a_growing_log_arrive_once_in_order(agent: AgentProcess) -> None:
    # Each full page is read ahead at its cursor; the log grows between the bursts, so some
    # read-ahead pages find nothing new and the request must read again.
    burst = "for i in $(seq {0} {1}); do echo line-$i-é; done"
    command = "; sleep 0.3; ".join(burst.format(n, n + 999) for n in (1, 1001, 2001))
    job = agent.call("jobs.launch", {"name": "log", "command": command, "mode": "nohup"})
    pages, cursor = [], None
    while True:
        params = {"id": job["id"], "encoding": "exact", "max_bytes": 4096, "partial": True}
        page = agent.call("logs.read", {**params, "cursor": cursor, "wait_s": 0.05})
        pages.append(page)
        cursor = page["cursor"]
        if page["eof"]:
            break
    expected = "".join(f"line-{i}-é\n" for i in range(1, 3001)).encode()
    assert b"".join(exact_bytes(p) for p in pages) == expected
    assert all("text" in p for p in pages)  # pages end on character boundaries
