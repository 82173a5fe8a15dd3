"""`tfdash logs` with --tail, --since, --file and -f against a real local agent."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tfdash.services.log_since import SINCE_FORMS, parse_since

RunCli = Callable[..., subprocess.CompletedProcess[str]]
SpawnCli = Callable[..., "subprocess.Popen[Any]"]


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr}"
    assert result.stderr == ""
    return result.stdout


def launch(tfdash: RunCli, command: str) -> str:
    return ok(tfdash("run", "--nohup", "--", command)).strip()


def numbered(first: int, last: int) -> str:
    return "".join(f"line {n}\n" for n in range(first, last + 1))


def test_tail_prints_the_last_lines_or_all_of_a_short_log(tfdash: RunCli) -> None:
    job_id = launch(tfdash, "seq -f 'line %g' 1 500")
    assert ok(tfdash("logs", "-f", job_id)) == numbered(1, 500)
    assert ok(tfdash("logs", "--tail", "4", job_id)) == numbered(497, 500)
    assert ok(tfdash("logs", "--tail", "1000", job_id)) == numbered(1, 500)
    negative = tfdash("logs", "--tail", "-1", job_id)
    assert negative.returncode == 2
    assert "--tail needs a number of lines >= 0" in negative.stderr


def test_since_prints_what_was_written_since_then(tfdash: RunCli, tmp_path: Path) -> None:
    job_id = launch(tfdash, "echo early; while [ ! -e go ]; do sleep 0.05; done; echo late")
    deadline = time.monotonic() + 60
    while ok(tfdash("logs", job_id)) != "early\n":
        assert time.monotonic() < deadline, "the job never printed its first line"
        time.sleep(0.1)
    # The time index has whole seconds and the ISO form below drops the fraction: keep
    # the two lines more than two seconds apart.
    time.sleep(2.5)
    since = time.time()
    (tmp_path / "go").touch()
    assert ok(tfdash("logs", "-f", job_id)) == "early\nlate\n"
    assert ok(tfdash("logs", "--since", f"{since:.3f}", job_id)) == "late\n"
    local = datetime.fromtimestamp(int(since)).isoformat()  # no zone: local time
    assert ok(tfdash("logs", "--since", local, job_id)) == "late\n"
    assert ok(tfdash("logs", "--since", "1h", job_id)) == "early\nlate\n"
    assert ok(tfdash("logs", "--since", "1h", "--tail", "1", job_id)) == "late\n"
    assert ok(tfdash("logs", "-f", "--since", f"{since:.3f}", job_id)) == "late\n"


def test_file_prints_another_log_of_the_job(tfdash: RunCli, tmp_path: Path) -> None:
    script = "for i in $(seq 1 50); do echo step $i >> train.log; done; echo to stdout"
    job_id = launch(tfdash, script)
    steps = "".join(f"step {n}\n" for n in range(1, 51))
    assert ok(tfdash("logs", "-f", "--file", "train.log", job_id)) == steps
    assert ok(tfdash("logs", "--file", str(tmp_path / "train.log"), job_id)) == steps
    assert ok(tfdash("logs", "--file", "train.log", "--tail", "2", job_id)) == steps[-16:]
    assert ok(tfdash("logs", job_id)) == "to stdout\n"
    outside = tfdash("logs", "--file", "../elsewhere.log", job_id)
    assert outside.returncode == 2
    assert "not a file under the job's cwd" in outside.stderr
    refused = tfdash("logs", "--file", "train.log", "--since", "1h", job_id)
    assert refused.returncode == 2
    assert "tail_lines" in refused.stderr or "--tail" in refused.stderr


def test_follow_prints_a_live_progress_line_and_ends_with_the_job(
    spawn_tfdash: SpawnCli, tfdash: RunCli, tmp_path: Path
) -> None:
    script = r"printf 'epoch 1\r1/2'; while [ ! -e go ]; do sleep 0.05; done; printf '\r2/2\n'"
    job_id = launch(tfdash, script)
    follower = spawn_tfdash("logs", "-f", job_id)
    try:
        assert follower.stdout is not None and follower.stderr is not None
        seen = b""
        while not seen.endswith(b"1/2"):  # unfinished, yet printed as it is drawn
            piece = os.read(follower.stdout.fileno(), 1024)
            assert piece, f"the follower ended early: {follower.stderr.read()!r}"
            seen += piece
        assert seen == b"epoch 1\r1/2"
        (tmp_path / "go").touch()
        assert follower.stdout.read() == b"\r2/2\n"
        assert follower.wait(timeout=60) == 0
        assert follower.stderr.read() == b""
    finally:
        if follower.poll() is None:
            follower.kill()


def test_lines_lost_to_a_truncation_are_noted_on_stderr(
    spawn_tfdash: SpawnCli, tfdash: RunCli, tmp_path: Path
) -> None:
    script = (
        "printf 'one\\ntwo\\n' >> app.log; while [ ! -e go ]; do sleep 0.05; done; "
        ": > app.log; echo three >> app.log"
    )
    job_id = launch(tfdash, script)
    follower = spawn_tfdash("logs", "-f", "--file", "app.log", job_id, text=True)
    try:
        assert follower.stdout is not None and follower.stderr is not None
        assert follower.stdout.readline() == "one\n"
        assert follower.stdout.readline() == "two\n"
        (tmp_path / "go").touch()  # truncated in place, as logrotate's copytruncate does
        assert follower.stdout.read() == "three\n"
        assert follower.wait(timeout=60) == 0
        note = follower.stderr.read()
        assert note.startswith(f"tfdash: {job_id}: lines missing: copytruncate")
        assert note.count("\n") == 1
    finally:
        if follower.poll() is None:
            follower.kill()


def test_a_closed_pipe_ends_logs_quietly(
    spawn_tfdash: SpawnCli, tfdash: RunCli, tmp_path: Path
) -> None:
    job_id = launch(tfdash, "seq -f 'line %g' 1 200000")
    reader = spawn_tfdash("logs", "-f", job_id)
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.readline() == b"line 1\n"
    reader.stdout.close()  # like `| head -1`
    assert reader.wait(timeout=60) == 0
    assert reader.stderr.read() == b""


def test_a_bad_since_lists_the_accepted_forms(tfdash: RunCli) -> None:
    result = tfdash("logs", "--since", "yesterday", "some-job")
    assert result.returncode == 2
    assert "argument --since: 'yesterday' is not a time" in result.stderr
    assert "90s, 10m, 2h, 1d" in result.stderr and "ISO 8601" in result.stderr


NOW = 1_769_868_300.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", NOW - 90),
        ("10m", NOW - 600),
        ("2h", NOW - 7200),
        ("1d", NOW - 86400),
        ("1h30m", NOW - 5400),
        ("0.5m", NOW - 30),
        (" 1769868000 ", 1_769_868_000.0),
        ("1769868000.25", 1_769_868_000.25),
        ("2026-01-31T14:05:00+00:00", datetime(2026, 1, 31, 14, 5, tzinfo=UTC).timestamp()),
        (
            "2026-01-31T14:05:00+01:00",
            datetime(2026, 1, 31, 14, 5, tzinfo=timezone(timedelta(hours=1))).timestamp(),
        ),
        ("2026-01-31T14:05:00Z", datetime(2026, 1, 31, 14, 5, tzinfo=UTC).timestamp()),
        ("2026-01-31 14:05", datetime(2026, 1, 31, 14, 5).timestamp()),  # local time
        ("2026-01-31", datetime(2026, 1, 31).timestamp()),
    ],
)
def test_parse_since_reads_every_documented_form(text: str, expected: float) -> None:
    assert parse_since(text, now=NOW) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "yesterday", "10x", "-5m", "m", "2026-13-01", "1h 30m"])
def test_parse_since_rejects_anything_else_naming_the_forms(text: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_since(text, now=NOW)
    assert str(error.value) == f"{text!r} is not a time: use {SINCE_FORMS}"
