"""Following a job's log file while Debian's logrotate rotates it under a steady writer."""

from __future__ import annotations

import gzip
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from support.agent import AgentProcess
from support.rotation import MODES, Received, Rig, line_bytes, needs_logrotate, subscribe

pytestmark = needs_logrotate
RATE = 4000


def launch(agent: AgentProcess, rig: Rig, writer_mode: str, count: int) -> str:
    command = rig.writer_command(writer_mode, count, RATE, sys.executable)
    job = agent.call(
        "jobs.launch", {"name": "writer", "command": command, "cwd": str(rig.work), "mode": "nohup"}
    )
    return str(job["id"])


def follow_while_rotating(agent: AgentProcess, rig: Rig, mode: str, count: int) -> Received:
    job_id = launch(agent, rig, mode, count)
    sub = subscribe(agent, job_id)  # app.log may not exist yet: the stream waits for it
    received = Received()
    with rig:
        received.follow(agent, sub)
    assert len(rig.runs) >= 5
    return received


@pytest.mark.parametrize("writer_mode", ["reopen", "sighup"])
def test_create_mode_delivers_every_line_once_in_order(
    agent: AgentProcess, tmp_path: Path, writer_mode: str
) -> None:
    mode = MODES["create+sighup" if writer_mode == "sighup" else "create"]
    rig = Rig(tmp_path, mode.config_options(tmp_path / "work"))
    received = follow_while_rotating(agent, rig, writer_mode, 12000)
    assert received.numbers == list(range(1, 12001))
    assert received.gaps == []
    assert len(list(rig.work.glob("app.log.*"))) >= 5


def test_compress_and_delaycompress_deliver_every_line_once_in_order(
    agent: AgentProcess, tmp_path: Path
) -> None:
    rig = Rig(tmp_path, MODES["create+compress+delaycompress"].options)
    received = follow_while_rotating(agent, rig, "reopen", 12000)
    assert received.numbers == list(range(1, 12001))
    assert received.gaps == []
    assert len(list(rig.work.glob("app.log.*.gz"))) >= 3


def test_copytruncate_losses_are_all_reported_as_gaps(agent: AgentProcess, tmp_path: Path) -> None:
    rig = Rig(tmp_path, MODES["copytruncate"].options)
    received = follow_while_rotating(agent, rig, "append", 12000)
    assert received.numbers == sorted(set(received.numbers))  # in order, no duplicates
    assert received.unexplained == []  # every jump came after a stream.gap
    assert received.gaps, "copytruncate ran, so the truncation must be reported"
    for gap in received.gap_notes:
        assert "copytruncate" in gap["reason"] and gap["bytes"] is None
    # Whatever logrotate itself did not destroy on disk reached the reader.
    assert rig.numbers_on_disk() <= set(received.numbers)
    assert set(received.numbers) <= set(range(1, 12001))
    assert received.numbers[-1] == 12000


def test_resume_after_three_compressed_rotations_gets_the_rest_exactly_once(
    agent_factory: Any, tmp_path: Path
) -> None:
    rig = Rig(tmp_path, MODES["create+compress+delaycompress"].options)
    first: AgentProcess = agent_factory()
    job_id = launch(first, rig, "reopen", 12000)
    received = Received()
    received.follow(first, subscribe(first, job_id), until=1000)
    first.proc.kill()  # the link dies mid-stream
    first.close()
    for _ in range(3):
        rig.rotate()
        threading.Event().wait(0.4)  # let the writer fill the new file
    # The cursor's file has been renamed twice and compressed since.
    oldest = gzip.decompress((rig.work / "app.log.3.gz").read_bytes())
    assert line_bytes(received.numbers[-1] + 1) in oldest
    second: AgentProcess = agent_factory()
    received.follow(second, subscribe(second, job_id, received.cursor))
    assert received.numbers == list(range(1, 12001))
    assert received.gaps == []


def test_a_deleted_log_is_followed_into_its_successor_with_a_gap(
    agent: AgentProcess, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    command = (
        "printf 'line-0000001\\n' > app.log; while [ ! -e go ]; do sleep 0.05; done;"
        " rm app.log; sleep 0.3; printf 'line-0000002\\n' > app.log"
    )
    job = agent.call("jobs.launch", {"name": "d", "command": command, "cwd": str(work)})
    sub = subscribe(agent, job["id"])
    received = Received()
    received.follow(agent, sub, until=1)
    (work / "go").touch()
    received.follow(agent, sub)
    assert received.numbers == [1, 2]
    assert len(received.gaps) == 1  # the old file's unread end, if any, is gone


def test_a_cursor_without_fingerprint_still_works(agent: AgentProcess, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    job = agent.call(
        "jobs.launch", {"name": "o", "command": "seq 1 1000 > app.log", "cwd": str(work)}
    )
    agent.wait_final(job["id"])
    first = agent.call("logs.read", {"id": job["id"], "file": "app.log", "max_bytes": 100})
    assert set(first["cursor"]) == {"inode", "offset", "head_sha1", "head_bytes"}
    old_style = {"inode": first["cursor"]["inode"], "offset": first["cursor"]["offset"]}
    rest = agent.call("logs.read", {"id": job["id"], "file": "app.log", "cursor": old_style})
    assert (first["text"] + rest["text"]).split() == [str(i) for i in range(1, 1001)]
    assert rest["eof"] is True and rest["gap"] is False


@pytest.mark.parametrize(
    "file",
    ["/etc/passwd", "../outside.log", "sub/../../outside.log", "a\x00b", "", ".", "link/x"],
)
def test_a_file_outside_the_cwd_is_refused(agent: AgentProcess, tmp_path: Path, file: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "link").symlink_to(tmp_path)
    job = agent.call("jobs.launch", {"name": "f", "command": "true", "cwd": str(work)})
    error = agent.error("logs.subscribe", {"target": {"job": job["id"], "file": file}})
    assert error["code"] == -32602
    assert error["data"]["field"] == "target.file"
    error = agent.error("logs.read", {"id": job["id"], "file": file})
    assert error["data"]["field"] == "file"


def test_an_absolute_path_inside_the_cwd_is_accepted(agent: AgentProcess, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    job = agent.call("jobs.launch", {"name": "a", "command": "echo hi > in.log", "cwd": str(work)})
    agent.wait_final(job["id"])
    result = agent.call("logs.read", {"id": job["id"], "file": str(work / "in.log")})
    assert result["text"] == "hi\n" and result["eof"] is True
