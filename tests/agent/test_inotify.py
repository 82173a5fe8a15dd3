"""The idle wait of a followed log: inotify wakes it on a change, ``wake`` ends it."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from remote_agent.inotify import DirWatch
from remote_agent.streams import IDLE_LOOK_S
from remote_agent.tail import JobLogSource

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux")


def test_a_quiet_directory_lets_the_wait_sleep_and_a_write_ends_it(tmp_path: Path) -> None:
    watch = DirWatch([tmp_path])
    assert watch.uses_inotify
    assert watch.wait(0.3) is False  # nothing changed: slept, no busy loop
    (tmp_path / "app.log").write_text("one line\n")
    assert watch.wait(30) is True
    assert watch.wait(0.3) is False  # the events were drained
    watch.close()


def test_rotation_by_rename_ends_the_wait(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("x\n")
    watch = DirWatch([tmp_path])
    log.rename(tmp_path / "app.log.1")
    assert watch.wait(30) is True
    watch.close()


def test_wake_ends_a_long_wait_and_every_later_one(tmp_path: Path) -> None:
    watch = DirWatch([tmp_path])
    results: list[bool] = []
    waiter = threading.Thread(target=lambda: results.append(watch.wait(600)))
    waiter.start()
    watch.wake()
    waiter.join(timeout=30)
    assert not waiter.is_alive() and results == [False]
    assert watch.wait(600) is False
    watch.close()
    watch.wake()  # after close: harmless, writes nowhere


def test_a_missing_directory_falls_back_to_polling(tmp_path: Path) -> None:
    watch = DirWatch([tmp_path / "not-yet"])
    assert not watch.uses_inotify
    assert watch.wait(0.05) is True  # a poll: "have a look"
    watch.close()


def test_a_log_source_sleeps_until_its_directory_changes(tmp_path: Path) -> None:
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    source = JobLogSource(tmp_path / "app.log", job_dir, lambda: "running", None, None)
    assert source.watch.uses_inotify
    stopped = threading.Event()
    done = threading.Event()

    def idle() -> None:
        source.wait_idle(stopped, IDLE_LOOK_S)
        done.set()

    threading.Thread(target=idle, daemon=True).start()
    assert not done.wait(0.5)  # idle: still asleep (its safety-net look is 2 s away)
    (tmp_path / "app.log").write_text("hello\n")
    assert done.wait(30)
    assert source.read(1000).items[0]["text"] == "hello\n"
    source.close()
