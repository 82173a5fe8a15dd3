"""The logrotate rig: Debian's logrotate forced on a sequence-numbered writer's file.

Shared by the agent tier (tests/agent/test_rotation.py), the SSH tier under network
faults (tests/ssh/test_log_rotation_faults.py) and bench/logs.py. A ``Rig`` owns a
directory with ``work/app.log`` (the writer's cwd and file) and a logrotate config; a
``LineTally`` checks what a reader received against the writer's numbering.
"""

from __future__ import annotations

import gzip
import os
import pwd
import shlex
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.agent import AgentProcess

LOGROTATE = shutil.which("logrotate") or "/usr/sbin/logrotate"
WRITER = Path(__file__).resolve().parents[1] / "agent" / "log_writer.py"
needs_logrotate = pytest.mark.skipif(not Path(LOGROTATE).exists(), reason="needs logrotate")


@dataclass(frozen=True)
class RotationMode:
    """A logrotate setup and the writer that goes with it (log_writer.py's MODE)."""

    name: str
    options: str
    writer: str

    def config_options(self, work: Path) -> str:
        if self.writer != "sighup":
            return self.options
        # Once the writer has exited there is nobody to tell: that is no failure.
        pid = work / "writer.pid"
        signal = f"kill -HUP $(cat {pid}) || [ ! -e /proc/$(cat {pid}) ]"
        return f"{self.options}\n  postrotate\n    {signal}\n  endscript"


MODES = {
    mode.name: mode
    for mode in (
        RotationMode("create", "create", "reopen"),
        RotationMode("create+sighup", "create", "sighup"),
        RotationMode("copytruncate", "copytruncate", "append"),
        RotationMode(
            "create+compress+delaycompress", "create\n  compress\n  delaycompress", "reopen"
        ),
    )
}


class Rig:
    """``<root>/work/app.log`` with a logrotate config, and a thread forcing rotations.

    With ``owner`` the work and state directories belong to that user and logrotate runs
    as that user (as an sshd's login user would run it for their own logs).
    """

    def __init__(
        self, root: Path, options: str, *, owner: str | None = None, interval_s: float = 0.3
    ) -> None:
        self.work = root / "work"
        self.work.mkdir(parents=True)
        self.log = self.work / "app.log"
        state_dir = root / "logrotate"
        state_dir.mkdir()
        self.state = state_dir / "state"
        self.conf = state_dir / "app.conf"
        self.conf.write_text(
            f"{self.log} {{\n  rotate 500\n  missingok\n  notifempty\n  {options}\n}}\n"
        )
        self.conf.chmod(0o644)
        self.owner = owner if owner != pwd.getpwuid(os.getuid()).pw_name else None
        for directory in (self.work, state_dir):
            if self.owner is not None:
                shutil.chown(directory, self.owner, self.owner)
            directory.chmod(0o755)
        self.interval_s = interval_s
        self.runs: list[subprocess.CompletedProcess[str]] = []
        self.failures: list[str] = []  # logrotate's stderr of failed forced runs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._rotate_until_stopped, daemon=True)

    def writer_command(self, writer_mode: str, count: int, rate: int, python: str) -> str:
        """The shell command that runs log_writer.py in the work directory."""
        parts = (python, str(WRITER), "app.log", writer_mode, str(count), str(rate))
        return "exec " + " ".join(shlex.quote(part) for part in parts)

    def _force(self) -> subprocess.CompletedProcess[str]:
        """One forced logrotate run, recorded in ``runs``."""
        run = subprocess.run(
            [LOGROTATE, "-f", "-s", str(self.state), str(self.conf)],
            capture_output=True,
            text=True,
            check=False,
            user=self.owner,
        )
        self.runs.append(run)
        return run

    def rotate(self) -> None:
        run = self._force()
        assert run.returncode == 0, run.stderr

    def _rotate_until_stopped(self) -> None:
        while not self._stop.wait(self.interval_s):
            run = self._force()
            if run.returncode != 0:
                self.failures.append(run.stderr)

    def __enter__(self) -> Rig:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        if exc_type is None:
            assert not self.failures, f"logrotate failed: {self.failures[0]}"

    def numbers_on_disk(self) -> set[int]:
        """Line numbers in the log and its rotated files (decompressed) now."""
        found: set[int] = set()
        for path in self.work.glob("app.log*"):
            data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            found.update(line_number(line) for line in data.splitlines() if line)
        return found

    def where_on_disk(self, numbers: set[int]) -> dict[str, list[int]]:
        """Which of the log's files hold ``numbers`` (for a failure message)."""
        found: dict[str, list[int]] = {}
        for path in sorted(self.work.glob("app.log*")):
            data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            held = sorted(numbers & {line_number(line) for line in data.splitlines() if line})
            if held:
                found[path.name] = [held[0], held[-1], len(held)]
        return found


def line_number(line: str | bytes) -> int:
    """The sequence number of one of log_writer.py's lines."""
    return int(line[5:12])


def line_bytes(number: int) -> bytes:
    return b"line-%07d " % number


class LineTally:
    """What a reader received: line numbers in order, gaps, and jumps no gap explained."""

    def __init__(self) -> None:
        self.numbers: list[int] = []
        self.gaps: list[str] = []
        self.unexplained: list[tuple[int, int]] = []  # (previous, next) with no gap between
        self._gap_pending = False
        self._partial = ""

    def gap(self, reason: str) -> None:
        """The reader was told data may be missing before the text that follows."""
        self.gaps.append(reason)
        self._gap_pending = True

    def add(self, text: str) -> None:
        text = self._partial + text
        *lines, self._partial = text.split("\n")
        for line in lines:
            number = line_number(line)
            previous = self.numbers[-1] if self.numbers else 0
            if number != previous + 1 and not self._gap_pending:
                self.unexplained.append((previous, number))
            self._gap_pending = False
            self.numbers.append(number)


class Received(LineTally):
    """A LineTally fed by an agent's notifications for one `logs` subscription."""

    def __init__(self) -> None:
        super().__init__()
        self.gap_notes: list[dict[str, Any]] = []
        self.cursor: dict[str, Any] | None = None

    def take(self, note: dict[str, Any]) -> bool:
        """Account for one notification; True once the stream has ended."""
        params = note["params"]
        if note["method"] == "stream.gap":
            self.gap_notes.append(params)
            self.gap(str(params["reason"]))
        elif note["method"] == "stream.data":
            self.add("".join(item["text"] for item in params["items"]))
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
    """A `logs` subscription to the job's ``app.log``; returns its id."""
    params: dict[str, Any] = {"target": {"job": job_id, "file": "app.log"}, "cursor": cursor}
    return str(agent.call("logs.subscribe", params)["sub"])
