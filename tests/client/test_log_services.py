"""The log services of issue #4 against a real local agent: where reading starts,
partial lines, cut lines read whole again, paging back, and saving a whole log."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import sys
import time
from pathlib import Path

import pytest

from remote_agent import protocol
from tfdash.errors import AgentError
from tfdash.models import Job, JobSpec, LaunchMode, LogChunk, LogCursor, LogCut
from tfdash.services import log_save
from tfdash.services.jobs import JobsService
from tfdash.services.logs import (
    LogFileExists,
    LogFollower,
    LogLineTooLong,
    chunk_of_items,
    read_before,
    read_line,
    save_log,
)
from tfdash.transport.session import HostSession

WAIT_S = 60.0
PYTHON = shlex.quote(sys.executable)  # bash -l resets PATH: name the interpreter fully


def numbered(first: int, last: int) -> str:
    return "".join(f"line {n}\n" for n in range(first, last + 1))


async def run_job(
    session: HostSession, command: str, *, cwd: Path | None = None, wait: bool = True, **log: int
) -> Job:
    """Launch ``command`` (nohup); with ``wait`` return once it has ended."""
    jobs = JobsService(session)
    spec = JobSpec(
        name="logs",
        command=command,
        cwd=None if cwd is None else str(cwd),
        mode=LaunchMode.NOHUP,
        log_max_bytes=log.get("max_bytes"),
        log_backups=log.get("backups"),
    )
    job = await jobs.launch(spec)
    return await jobs.wait(job.id, timeout=WAIT_S, poll_s=0.1) if wait else job


async def text_of(follower: LogFollower) -> str:
    return "".join([chunk.text async for chunk in follower])


async def chunks_of(follower: LogFollower) -> list[LogChunk]:
    return [chunk async for chunk in follower]


async def test_tail_lines_starts_at_the_nth_line_before_the_end(session: HostSession) -> None:
    job = await run_job(session, "seq -f 'line %g' 1 1000")
    assert await text_of(LogFollower(session, job.id, tail_lines=5, follow=False)) == numbered(
        996, 1000
    )
    chunks = await chunks_of(LogFollower(session, job.id, tail_lines=3))
    assert "".join(chunk.text for chunk in chunks) == numbered(998, 1000)
    assert chunks[-1].eof
    assert all(chunk.time is not None for chunk in chunks if chunk.text)
    everything = LogFollower(session, job.id, tail_lines=5000, follow=False)
    assert await text_of(everything) == numbered(1, 1000)


async def test_since_starts_at_the_first_line_written_then(
    session: HostSession, tmp_path: Path
) -> None:
    script = "echo early; while [ ! -e go ]; do sleep 0.05; done; echo late"
    job = await run_job(session, script, cwd=tmp_path, wait=False)
    async for chunk in LogFollower(session, job.id):
        assert chunk.text == "early\n"
        break
    await asyncio.sleep(1.5)  # the time index has whole seconds: keep them apart
    since = time.time()
    (tmp_path / "go").touch()
    await JobsService(session).wait(job.id, timeout=WAIT_S, poll_s=0.1)
    assert await text_of(LogFollower(session, job.id, since=since, follow=False)) == "late\n"
    assert await text_of(LogFollower(session, job.id, since=since)) == "late\n"
    from_before = LogFollower(session, job.id, since=since - 3600, follow=False)
    assert await text_of(from_before) == "early\nlate\n"


async def test_since_with_another_file_is_refused_naming_tail_lines(
    session: HostSession, tmp_path: Path
) -> None:
    job = await run_job(session, "echo hi > other.log", cwd=tmp_path)
    follower = LogFollower(session, job.id, file="other.log", since=0.0, follow=False)
    with pytest.raises(AgentError) as refused:
        await text_of(follower)
    assert refused.value.code == protocol.INVALID_PARAMS
    assert "since" in refused.value.message and "tail_lines" in refused.value.message
    assert await text_of(LogFollower(session, job.id, file="other.log", follow=False)) == "hi\n"


async def test_partial_hands_out_the_unfinished_line_as_it_is_drawn(
    session: HostSession, tmp_path: Path
) -> None:
    script = (
        r"printf 'head\nprogress 1\rprogress 2'; while [ ! -e go ]; do sleep 0.05; done; "
        r"printf ' done\nlast\n'"
    )
    job = await run_job(session, script, cwd=tmp_path, wait=False)
    seen = ""
    follower = LogFollower(session, job.id, partial=True)
    async for chunk in follower:
        seen += chunk.text
        if seen.endswith("progress 2"):
            break
    assert seen == "head\nprogress 1\rprogress 2"
    assert await text_of(LogFollower(session, job.id, follow=False)) == "head\n"
    assert follower.cursor is not None
    (tmp_path / "go").touch()
    rest = LogFollower(session, job.id, cursor=follower.cursor, partial=True)
    assert await text_of(rest) == " done\nlast\n"
    read = LogFollower(session, job.id, partial=True, follow=False)
    assert await text_of(read) == "head\nprogress 1\rprogress 2 done\nlast\n"


async def test_a_cut_line_is_marked_and_read_whole_again(
    session: HostSession, tmp_path: Path
) -> None:
    long_line = "x" + "é" * 5_000_000  # 10 MB; an "é" straddles each 8 MiB page boundary
    limit = 1001  # ends after a whole "é"
    source = (
        "import sys\n"
        "sys.stdout.write('first\\n' + 'x' + '\\u00e9' * 5_000_000 + '\\nnext\\n' + "
        "'p' * 300 + '\\r' + 'q' * 300 + '\\n')\n"
    )
    (tmp_path / "job.py").write_text(source)
    job = await run_job(session, f"{PYTHON} job.py", cwd=tmp_path)
    head = long_line[:501]
    expected = f"first\n{head}\nnext\n{'p' * 300}\r{'q' * 300}\n"
    for follow in (False, True):
        chunks = await chunks_of(LogFollower(session, job.id, line_limit=limit, follow=follow))
        text = "".join(chunk.text for chunk in chunks)
        assert text == expected, follow  # the \r redraws are short segments: never cut
        cuts = [(chunk, cut) for chunk in chunks for cut in chunk.cuts]
        assert len(cuts) == 1, follow
        chunk, cut = cuts[0]
        assert chunk.text[: cut.at].endswith(head)
        assert cut.line.offset == len("first\n")
        assert await read_line(session, job.id, cut.line) == long_line
    with pytest.raises(LogLineTooLong):
        await read_line(session, job.id, cut.line, max_bytes=1_000_000)


async def test_read_before_pages_back_to_the_start_of_a_rotated_log(
    session: HostSession,
) -> None:
    job = await run_job(session, "seq -f 'line %g' 1 5000", max_bytes=16_384, backups=9)
    end = LogFollower(session, job.id, tail_lines=0, follow=False)
    assert await text_of(end) == ""
    assert end.cursor is not None
    pages: list[str] = []
    cursor = end.cursor
    while True:
        page = await read_before(session, job.id, cursor, 1000)
        assert page.text.count("\n") <= 1000
        pages.insert(0, page.text)
        cursor = page.cursor
        if page.at_start:
            break
        assert page.text, "a page that is not the first holds lines"
    assert "".join(pages) == numbered(1, 5000)
    assert len(pages) in (5, 6)  # 1,000 lines a page (the last may be empty)
    from_start = LogFollower(session, job.id, cursor=cursor, follow=False)
    assert await text_of(from_start) == numbered(1, 5000)


def test_a_batch_of_items_is_one_chunk_with_its_cuts_moved_along() -> None:
    line = {"inode": 7, "offset": 120}
    items = [
        {"t": 10.5, "text": "ab\n"},
        {"t": 10.6, "text": "xyz\n", "cuts": [{"at": 3, "line": line}]},
        {"t": 10.7, "text": "é\n", "cuts": []},
    ]
    chunk = chunk_of_items(items, LogCursor(7, 200), "rotated", reconnected=True)
    assert chunk.text == "ab\nxyz\né\n"
    assert chunk.cuts == (LogCut(at=6, line=LogCursor(7, 120)),)
    assert chunk.text[: chunk.cuts[0].at] == "ab\nxyz"
    assert (chunk.time, chunk.gap, chunk.reconnected, chunk.eof) == (10.5, "rotated", True, False)


def messy_bytes(lines: int) -> bytes:
    """Log bytes a decoder would mangle: invalid UTF-8, \\r redraws, a split character."""
    out = bytearray()
    for n in range(lines):
        out += b"step %d \xff\xfe ok\r" % n
        out += f"step {n} done é ✓\n".encode()
    out += b"no newline at the end \xc3"
    return bytes(out)


async def test_save_log_writes_every_byte_of_a_rotated_log(
    session: HostSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = messy_bytes(2000)
    (tmp_path / "data.bin").write_bytes(expected)
    job = await run_job(session, "cat data.bin", cwd=tmp_path, max_bytes=8192, backups=50)
    assert len(list(Path(job.job_dir).glob("output.log.*"))) > 4
    monkeypatch.setattr(log_save, "PAGE_BYTES", 10_000)  # many pages without a huge log
    calls: list[tuple[int, int | None]] = []
    dest = tmp_path / "saved.log"
    result = await save_log(
        session, job.id, dest, progress=lambda done, total: calls.append((done, total))
    )
    assert dest.read_bytes() == expected
    assert (result.path, result.bytes_written, result.gaps) == (dest, len(expected), ())
    assert len(calls) > 5
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[0] == (0, len(expected))
    assert calls[-1] == (len(expected), len(expected))
    assert not list(tmp_path.glob("*.part"))


async def test_save_log_of_a_running_job_stops_where_it_caught_up(
    session: HostSession, tmp_path: Path
) -> None:
    job = await run_job(session, "seq -f 'line %g' 1 100; sleep 30", wait=False)
    async for chunk in LogFollower(session, job.id, tail_lines=1):
        if chunk.text.endswith("line 100\n"):
            break
    result = await asyncio.wait_for(save_log(session, job.id, tmp_path / "now.log"), WAIT_S)
    assert (tmp_path / "now.log").read_text() == numbered(1, 100)
    assert result.bytes_written == len(numbered(1, 100))


async def test_save_log_goes_on_after_the_agent_is_killed(
    session: HostSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = await run_job(session, "seq -f 'line %g' 1 20000")
    monkeypatch.setattr(log_save, "PAGE_BYTES", 20_000)
    assert session.info is not None and session.info.agent_pid is not None
    first_agent = session.info.agent_pid

    def kill_agent_once(done: int, total: int | None) -> None:
        if done and session.info is not None and session.info.agent_pid == first_agent:
            os.kill(first_agent, signal.SIGKILL)

    dest = tmp_path / "through-a-drop.log"
    result = await save_log(session, job.id, dest, progress=kill_agent_once)
    assert dest.read_text() == numbered(1, 20000)
    assert result.bytes_written == len(numbered(1, 20000))
    assert session.info is not None and session.info.agent_pid != first_agent


async def test_a_cancelled_save_leaves_no_file(
    session: HostSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = await run_job(session, "seq -f 'line %g' 1 20000")
    monkeypatch.setattr(log_save, "PAGE_BYTES", 10_000)
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "cancelled.log"
    pages: list[int] = []

    def cancel_after_two_pages(done: int, total: int | None) -> None:
        pages.append(done)
        if len(pages) == 3:  # the start, then two pages
            saving.cancel()

    saving = asyncio.ensure_future(save_log(session, job.id, dest, progress=cancel_after_two_pages))
    with pytest.raises(asyncio.CancelledError):
        await saving
    assert len(pages) == 3
    assert list(out.iterdir()) == []


async def test_save_log_refuses_to_overwrite_unless_asked(
    session: HostSession, tmp_path: Path
) -> None:
    job = await run_job(session, "seq -f 'line %g' 1 10")
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "taken.log"
    dest.write_text("keep me\n")
    with pytest.raises(LogFileExists) as refused:
        await save_log(session, job.id, dest)
    assert isinstance(refused.value, FileExistsError)
    assert str(dest) in refused.value.message
    assert dest.read_text() == "keep me\n"
    assert [path.name for path in out.iterdir()] == ["taken.log"]
    await save_log(session, job.id, dest, overwrite=True)
    assert dest.read_text() == numbered(1, 10)
