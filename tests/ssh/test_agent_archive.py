"""The agent zipapp: deterministic, stdlib-only, and jobs it launches run from it too."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tfdash.transport import agent_archive
from tfdash.transport.agent_archive import AgentArchive, build_archive
from tfdash.transport.agent_upload import RECEIVE_SCRIPT


class PyzAgent:
    """``python -S agent.pyz serve``: no site-packages, no checkout on the path."""

    def __init__(self, pyz: Path, home: Path, user_home: Path) -> None:
        env = {
            "PATH": os.environ["PATH"],
            "TFDASH_HOME": str(home),
            # An empty HOME: the job's `bash -lc` reads no rc files of this machine.
            "HOME": str(user_home),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-S", str(pyz), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=str(user_home),
        )
        self.next_id = 0

    def call(self, method: str, params: dict[str, Any]) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.next_id += 1
        request = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the agent closed its output: {self.stderr()}"
        reply = json.loads(line)
        assert reply["id"] == self.next_id
        assert "error" not in reply, reply["error"]
        return reply["result"]

    def stderr(self) -> str:
        self.proc.kill()
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            for stream in (self.proc.stdout, self.proc.stderr):
                assert stream is not None
                stream.close()


@pytest.fixture
def pyz(tmp_path: Path) -> Path:
    path = tmp_path / "agent.pyz"
    path.write_bytes(build_archive().data)
    return path


@pytest.fixture
def pyz_agent(pyz: Path, tmp_path: Path) -> Iterator[PyzAgent]:
    user_home = tmp_path / "user-home"
    user_home.mkdir()
    agent = PyzAgent(pyz, tmp_path / "tfdash-home", user_home)
    yield agent
    agent.close()


def test_building_twice_gives_the_same_bytes_and_digest() -> None:
    first = agent_archive.agent_sources()
    second = agent_archive.agent_sources()
    assert agent_archive.zip_members(first) == agent_archive.zip_members(second)
    archive = build_archive()
    assert archive.digest == agent_archive.content_digest(second)
    assert archive.sha256 == hashlib.sha256(archive.data).hexdigest()
    assert build_archive() is archive  # memoised per process


def test_the_digest_follows_the_code() -> None:
    members = agent_archive.agent_sources()
    changed = dict(members)
    changed["remote_agent/server.py"] = members["remote_agent/server.py"] + b"\n# changed\n"
    assert agent_archive.content_digest(changed) != agent_archive.content_digest(members)


def test_the_archive_holds_the_agent_pynvml_and_an_entry_point() -> None:
    archive: AgentArchive = build_archive()
    with zipfile.ZipFile(io.BytesIO(archive.data)) as zipped:
        infos = zipped.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {
        "__main__.py",
        "pynvml.py",
        "remote_agent/__main__.py",
        "remote_agent/server.py",
    } <= set(names)
    assert not [name for name in names if "__pycache__" in name or not name.endswith(".py")]
    assert {info.date_time for info in infos} == {agent_archive.FIXED_DATE_TIME}
    assert archive.relative_path == f"agent/{archive.version}-{archive.digest}/agent.pyz"


def test_the_pyz_answers_hello_on_the_standard_library_alone(pyz_agent: PyzAgent) -> None:
    result = pyz_agent.call("hello", {"protocol": 1})
    assert result["agent_version"] == build_archive().version
    assert result["python"]["executable"] == sys.executable


def test_pynvml_imports_from_the_pyz_without_site_packages(pyz: Path) -> None:
    code = "import sys; sys.path.insert(0, sys.argv[1]); import pynvml; print(pynvml.__file__)"
    done = subprocess.run(
        [sys.executable, "-S", "-c", code, str(pyz)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == str(pyz / "pynvml.py")


def test_a_job_launched_from_the_pyz_is_supervised_from_the_pyz(
    pyz_agent: PyzAgent, pyz: Path
) -> None:
    job = pyz_agent.call(
        "jobs.launch", {"name": "from-pyz", "command": "echo started; sleep 60", "mode": "nohup"}
    )
    try:
        cmdline = Path(f"/proc/{job['supervisor_pid']}/cmdline").read_bytes().split(b"\0")
        assert [sys.executable.encode(), b"-S", str(pyz).encode(), b"run-job"] == cmdline[:4]
        # Stop it only once it printed (a loaded machine may take a while to start bash).
        log, deadline = Path(job["log_path"]), time.monotonic() + 30
        while not (log.exists() and log.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        pyz_agent.call("jobs.stop", {"id": job["id"], "grace_s": 5})
    deadline = time.monotonic() + 30
    while job["state"] in ("starting", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
        job = pyz_agent.call("jobs.get", {"id": job["id"]})
    assert job["state"] == "stopped"
    assert Path(job["log_path"]).read_text().startswith("started")


def test_a_short_job_from_the_pyz_succeeds(pyz_agent: PyzAgent) -> None:
    job = pyz_agent.call("jobs.launch", {"name": "short", "command": "echo hi", "mode": "nohup"})
    deadline = time.monotonic() + 30
    while job["state"] in ("starting", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
        job = pyz_agent.call("jobs.get", {"id": job["id"]})
    assert (job["state"], job["exit_code"]) == ("succeeded", 0)
    assert Path(job["log_path"]).read_text() == "hi\n"


def receive(directory: Path, data: bytes, sent: bytes) -> subprocess.CompletedProcess[bytes]:
    """Run the exec-channel receiver for ``data`` (size and SHA-256), feeding it ``sent``."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            RECEIVE_SCRIPT,
            str(directory),
            str(directory / "agent.pyz"),
            str(len(data)),
            hashlib.sha256(data).hexdigest(),
        ],
        input=sent,
        capture_output=True,
        check=False,
    )


@pytest.mark.parametrize("cut", [0, 1000, "all-but-one"])
def test_the_exec_receiver_writes_nothing_from_a_truncated_stream(
    tmp_path: Path, cut: int | str
) -> None:
    """A dropped link ends the stream early: no agent.pyz and no temp file may remain."""
    data = build_archive().data
    sent = data[: len(data) - 1] if cut == "all-but-one" else data[: int(cut)]
    directory = tmp_path / "agent" / "v"
    done = receive(directory, data, sent)
    assert done.returncode == 3, done.stderr
    assert not directory.exists()


def test_the_exec_receiver_refuses_wrong_content(tmp_path: Path) -> None:
    data = build_archive().data
    corrupt = bytes([data[0] ^ 1]) + data[1:]
    directory = tmp_path / "agent" / "v"
    done = receive(directory, data, corrupt)
    assert done.returncode == 3
    assert b"SHA-256" in done.stderr
    assert not directory.exists()
