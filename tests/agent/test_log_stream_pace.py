"""A followed log is read at every change but sent in batches; a chatty neighbour is ignored.

The stream reads its log at each inotify event about it (so lines that copytruncate keeps
only for a moment are read in time) into a pending batch, and sends that batch at most
every BATCH_S. A file beside the log that is written without pause must not wake it into
a busy loop.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from agent.log_jobs import cpu_seconds
from support.agent import AgentProcess

from remote_agent.streams import BATCH_S, StreamRead, Subscription
from remote_agent.tail import JobLogSource

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux")
LINES = 150
NEIGHBOUR_S = 3.0
CPU_BUDGET_S = 0.5  # a resource bound with a wide margin: a busy loop would take ~3 s


class CountedSource(JobLogSource):
    """The real log source, counting its reads."""

    reads = 0

    def read(self, max_bytes: int) -> StreamRead:
        self.reads += 1
        return super().read(max_bytes)


def test_a_log_is_read_at_every_write_and_sent_in_batches(tmp_path: Path) -> None:
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    log = tmp_path / "app.log"
    log.touch()
    state = ["running"]
    source = CountedSource(log, job_dir, lambda: state[0], None, None)
    notes: list[tuple[float, str, dict[str, Any]]] = []
    ended = threading.Event()

    def notify(method: str, params: dict[str, Any]) -> None:
        notes.append((time.monotonic(), method, params))
        if method == "stream.end":
            ended.set()

    sub = Subscription("logs-1", source, notify)
    sub.start()
    with log.open("a") as out:
        for number in range(1, LINES + 1):
            out.write(f"line {number}\n")
            out.flush()
            time.sleep(0.004)
    state[0] = "succeeded"
    (job_dir / "state.json").write_text("{}")  # what the supervisor's final write looks like
    assert ended.wait(30)
    data = [(at, params) for at, method, params in notes if method == "stream.data"]
    text = "".join(item["text"] for _, params in data for item in params["items"])
    assert text.splitlines() == [f"line {n}" for n in range(1, LINES + 1)]
    # Several reads went into each batch, and batches were never sent closer than BATCH_S
    # (the clock is read in notify, a moment after the pump's own reading of it), but for
    # the last one: the end sends what is pending at once.
    assert source.reads > 2 * len(data), (source.reads, len(data))
    spacing = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(data[:-1])]
    assert all(gap > BATCH_S - 0.02 for gap in spacing), spacing
    assert all(len(params["items"]) == 1 for _, params in data)  # reads without cuts merged


def test_a_chatty_neighbour_file_does_not_keep_the_stream_busy(
    agent: AgentProcess, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    chatter = (
        "import os, time\n"
        "fd = os.open('other.log', os.O_WRONLY | os.O_CREAT | os.O_APPEND)\n"
        f"end = time.monotonic() + {NEIGHBOUR_S + 30}\n"
        "while time.monotonic() < end: os.write(fd, b'x')\n"
    )
    (work / "chatter.py").write_text(chatter)
    command = f"echo hi > app.log; exec {sys.executable} chatter.py"
    job = agent.call("jobs.launch", {"name": "chatty", "command": command, "cwd": str(work)})
    pid = agent.call("hello")["pid"]
    agent.call("logs.subscribe", {"target": {"job": job["id"], "file": "app.log"}})
    assert agent.notification()["params"]["items"][0]["text"] == "hi\n"
    deadline = time.monotonic() + 30
    while not (work / "other.log").exists() or (work / "other.log").stat().st_size == 0:
        assert time.monotonic() < deadline, "the neighbour never wrote"
        time.sleep(0.05)
    before = cpu_seconds(pid)
    time.sleep(NEIGHBOUR_S)
    used = cpu_seconds(pid) - before
    assert (work / "other.log").stat().st_size > 0
    assert agent.notifications.empty()
    assert used < CPU_BUDGET_S, f"the stream used {used:.2f} s of CPU in {NEIGHBOUR_S} s"
    agent.call("jobs.stop", {"id": job["id"], "grace_s": 1})
