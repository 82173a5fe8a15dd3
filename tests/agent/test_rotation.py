"""Following a job's log file while Debian's logrotate rotates it under a steady writer."""

from __future__ import annotations

import gzip
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from support.agent import AgentProcess

LOGROTATE = shutil.which("logrotate") or "/usr/sbin/logrotate"
WRITER = Path(__file__).with_name("log_writer.py")
pytestmark = pytest.mark.skipif(not Path(LOGROTATE).exists(), reason="needs logrotate")


class Rig:
    """A job dir with a logrotate config for ``work/app.log``, and a rotator thread."""

    def __init__(self, tmp_path: Path, options: str) -> None:
        self.work = tmp_path / "work"
        self.work.mkdir()
        self.log = self.work / "app.log"
        self.state = tmp_path / "logrotate.state"
        self.conf = tmp_path / "logrotate.conf"
        self.conf.write_text(
            f"{self.log} {{\n  rotate 500\n  missingok\n  notifempty\n  {options}\n}}\n"
        )
        self.runs: list[subprocess.CompletedProcess[str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._rotate_until_stopped, daemon=True)

    def launch(self, agent: AgentProcess, mode: str, count: int) -> str:
        command = " ".join(
            shlex.quote(part) for part in (sys.executable, str(WRITER), "app.log", mode, str(count))
        )
        job = agent.call(
            "jobs.launch",
            {
                "name": "writer",
                "command": "exec " + command,
                "cwd": str(self.work),
                "mode": "nohup",
            },
        )
        return str(job["id"])

    def rotate(self) -> None:
        run = subprocess.run(
            [LOGROTATE, "-f", "-s", str(self.state), str(self.conf)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        self.runs.append(run)

    def _rotate_until_stopped(self) -> None:
        while not self._stop.wait(0.3):
            self.rotate()

    def __enter__(self) -> Rig:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def numbers_on_disk(self) -> set[int]:
        """Line numbers in the log and its rotated files (decompressed) now."""
        found: set[int] = set()
        for path in self.work.glob("app.log*"):
            data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            found.update(int(line[5:12]) for line in data.splitlines() if line)
        return found


class Received:
    """What a subscription delivered: line numbers in order, and what a gap preceded."""

    def __init__(self) -> None:
        self.numbers: list[int] = []
        self.gaps: list[dict[str, Any]] = []
        self.unexplained: list[tuple[int, int]] = []  # jumps with no stream.gap before them
        self.cursor: dict[str, Any] | None = None
        self._gap_pending = False
        self._partial = ""

    def take(self, note: dict[str, Any]) -> bool:
        """Account for one notification; True once the stream has ended."""
        params = note["params"]
        if note["method"] == "stream.gap":
            self.gaps.append(params)
            self._gap_pending = True
        elif note["method"] == "stream.data":
            text = self._partial + "".join(item["text"] for item in params["items"])
            *lines, self._partial = text.split("\n")
            for line in lines:
                number = int(line[5:12])
                previous = self.numbers[-1] if self.numbers else 0
                if number != previous + 1 and not self._gap_pending:
                    self.unexplained.append((previous, number))
                self._gap_pending = False
                self.numbers.append(number)
            self.cursor = params["cursor"]
        assert note["method"] != "stream.end" or params["reason"] == "ended", params
        return bool(note["method"] == "stream.end")

    def follow(self, agent: AgentProcess, sub: str, until: int | None = None) -> None:
        """Take notifications until the stream ends (or ``until`` lines have arrived)."""
        while until is None or len(self.numbers) < until:
            note = agent.notification(timeout=60)
            assert note["params"]["sub"] == sub
            if self.take(note):
                return


def subscribe(agent: AgentProcess, job_id: str, cursor: dict[str, Any] | None = None) -> str:
    params: dict[str, Any] = {"target": {"job": job_id, "file": "app.log"}, "cursor": cursor}
    return str(agent.call("logs.subscribe", params)["sub"])


def follow_while_rotating(agent: AgentProcess, rig: Rig, mode: str, count: int) -> Received:
    job_id = rig.launch(agent, mode, count)
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
    options = "create"
    if writer_mode == "sighup":
        pid = tmp_path / "work" / "writer.pid"
        options += f"\n  postrotate\n    kill -HUP $(cat {pid})\n  endscript"
    rig = Rig(tmp_path, options)
    received = follow_while_rotating(agent, rig, writer_mode, 12000)
    assert received.numbers == list(range(1, 12001))
    assert received.gaps == []
    assert len(list(rig.work.glob("app.log.*"))) >= 5


def test_compress_and_delaycompress_deliver_every_line_once_in_order(
    agent: AgentProcess, tmp_path: Path
) -> None:
    rig = Rig(tmp_path, "create\n  compress\n  delaycompress")
    received = follow_while_rotating(agent, rig, "reopen", 12000)
    assert received.numbers == list(range(1, 12001))
    assert received.gaps == []
    assert len(list(rig.work.glob("app.log.*.gz"))) >= 3


def test_copytruncate_losses_are_all_reported_as_gaps(agent: AgentProcess, tmp_path: Path) -> None:
    rig = Rig(tmp_path, "copytruncate")
    received = follow_while_rotating(agent, rig, "append", 12000)
    assert received.numbers == sorted(set(received.numbers))  # in order, no duplicates
    assert received.unexplained == []  # every jump came after a stream.gap
    assert received.gaps, "copytruncate ran, so the truncation must be reported"
    for gap in received.gaps:
        assert "copytruncate" in gap["reason"] and gap["bytes"] is None
    # Whatever logrotate itself did not destroy on disk reached the reader.
    assert rig.numbers_on_disk() <= set(received.numbers)
    assert set(received.numbers) <= set(range(1, 12001))
    assert received.numbers[-1] == 12000


def test_resume_after_three_compressed_rotations_gets_the_rest_exactly_once(
    agent_factory: Any, tmp_path: Path
) -> None:
    rig = Rig(tmp_path, "create\n  compress\n  delaycompress")
    first: AgentProcess = agent_factory()
    job_id = rig.launch(first, "reopen", 12000)
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


def line_bytes(number: int) -> bytes:
    return b"line-%07d " % number


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
