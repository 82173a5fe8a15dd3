"""``logs.read``: whole lines, cursors across the supervisor's own rotation, odd bytes."""

from __future__ import annotations

from pathlib import Path

from support.agent import AgentProcess


def run_to_end(agent: AgentProcess, command: str, **params: object) -> str:
    spec = {"name": "log", "command": command, "mode": "nohup", **params}
    job = agent.call("jobs.launch", spec)
    agent.wait_final(job["id"])
    return str(job["id"])


def test_rotation_keeps_every_line_once_in_order(agent: AgentProcess) -> None:
    job_id = run_to_end(
        agent,
        "for i in $(seq 1 3000); do echo line-$i; done",
        log={"max_bytes": 4096, "backups": 20},
    )
    job_dir = Path(agent.call("jobs.get", {"id": job_id})["job_dir"])
    rotated = sorted(job_dir.glob("output.log.*"))
    total = sum(len(f"line-{i}\n") for i in range(1, 3001))
    assert len(rotated) >= total // 4096
    assert sum(p.stat().st_size for p in job_dir.glob("output.log*")) == total
    for path in rotated:
        assert path.stat().st_size <= 4096
        assert path.read_bytes().endswith(b"\n")  # rotation cuts at line ends
    text = agent.read_log(job_id, max_bytes=1000)
    assert text.splitlines() == [f"line-{i}" for i in range(1, 3001)]


def test_a_cursor_survives_rotation_between_reads(agent: AgentProcess) -> None:
    job = agent.call(
        "jobs.launch",
        {
            "name": "slow",
            "command": "for i in $(seq 1 400); do echo line-$i; sleep 0.005; done",
            "mode": "nohup",
            "log": {"max_bytes": 2000, "backups": 50},
        },
    )
    text, cursor = [], None
    while True:
        result = agent.call("logs.read", {"id": job["id"], "cursor": cursor, "wait_s": 1})
        text.append(result["text"])
        cursor = result["cursor"]
        if result["eof"]:
            break
    assert "".join(text).splitlines() == [f"line-{i}" for i in range(1, 401)]


def test_lines_rotated_out_of_existence_are_reported_as_a_gap(agent: AgentProcess) -> None:
    job_id = run_to_end(
        agent,
        "for i in $(seq 1 2000); do echo line-$i; done",
        log={"max_bytes": 2000, "backups": 1},
    )
    first = agent.call("logs.read", {"id": job_id, "cursor": {"inode": 1, "offset": 0}})
    assert first["gap"] is True
    assert first["text"].endswith("line-2000\n")


def test_tail_bytes_starts_at_a_line_boundary(agent: AgentProcess) -> None:
    job_id = run_to_end(agent, "for i in $(seq 1 1000); do echo line-$i; done")
    result = agent.call("logs.read", {"id": job_id, "tail_bytes": 100})
    lines = result["text"].splitlines()
    assert lines[-1] == "line-1000"
    assert all(line.startswith("line-") for line in lines)
    assert len(result["text"]) <= 100
    assert result["eof"] is True


def test_a_partial_line_waits_for_its_newline(agent: AgentProcess) -> None:
    job = agent.call(
        "jobs.launch",
        {
            "name": "p",
            "command": "printf 'whole\\npart'; sleep 2; printf 'ial\\n'",
            "mode": "nohup",
        },
    )
    first = agent.call("logs.read", {"id": job["id"], "wait_s": 1})
    assert first["text"] == "whole\n"
    rest = agent.call("logs.read", {"id": job["id"], "cursor": first["cursor"], "wait_s": 5})
    assert rest["text"] == "partial\n"


def test_an_unterminated_last_line_is_delivered_when_the_job_ends(agent: AgentProcess) -> None:
    job_id = run_to_end(agent, "printf 'no newline at the end'")
    assert agent.read_log(job_id) == "no newline at the end"


def test_invalid_utf8_becomes_replacement_characters(agent: AgentProcess) -> None:
    job_id = run_to_end(agent, r"printf 'caf\xc3\xa9 \xff\xfe ok\n'")
    assert agent.read_log(job_id) == "café \ufffd\ufffd ok\n"


def test_a_huge_line_is_handed_out_in_pieces(agent: AgentProcess) -> None:
    job_id = run_to_end(agent, "head -c 3000000 /dev/zero | tr '\\0' x; echo")
    text = agent.read_log(job_id, max_bytes=1 << 20)
    assert text == "x" * 3_000_000 + "\n"


def test_a_bad_cursor_is_32602(agent: AgentProcess) -> None:
    job_id = run_to_end(agent, "true")
    error = agent.error("logs.read", {"id": job_id, "cursor": {"inode": "x", "offset": 0}})
    assert error["code"] == -32602
    assert error["data"]["field"] == "cursor"
