"""A freed inode given to the next log is no copytruncate; a .gz being written is waited for.

logrotate's ``delaycompress`` compresses ``app.log.1`` into a new file and deletes it; the
``app.log`` it creates next may get the deleted file's inode. A reader whose cursor was
in the deleted file then finds "its" inode live with other content, like a file truncated
in place. These tests build that on disk with the real Follower (forcing the reuse by
retrying until the file system hands the inode out again) and check that every line
arrives once, in order, with no gap; and that a real copytruncate still reports one.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from remote_agent.fileid import born
from remote_agent.follow import COPYTRUNCATE, FileCursor, Follower
from remote_agent.siblings import LogFile

REUSE_TRIES = 20


def lines(first: int, last: int) -> bytes:
    return b"".join(b"line-%07d %s\n" % (n, b"x" * 40) for n in range(first, last + 1))


def numbers(data: bytes) -> list[int]:
    return [int(line[5:12]) for line in data.splitlines()]


def read_rest(follower: Follower, cursor: FileCursor) -> tuple[bytes, list[str], FileCursor]:
    """Everything after ``cursor`` (as a running job's reader sees it), and the gaps."""
    out, gaps = b"", []
    while True:
        read = follower.read(cursor, 1000, final=False)
        out += read.data
        gaps += [read.gap] if read.gap else []
        cursor = read.cursor
        if read.at_end:
            return out, gaps, cursor


def needs_birth_times(path: Path) -> None:
    if born(LogFile(path, path.stat().st_ino, 0, False)) is None:
        pytest.skip("this kernel, libc or file system keeps no birth times")


def delaycompress_with_reuse(tmp_path: Path) -> tuple[Follower, FileCursor, Path]:
    """A reader part-way into app.log; two delaycompress rotations, the second of which
    gives app.log's old (freed) inode to the new app.log."""
    for attempt in range(REUSE_TRIES):
        work = tmp_path / f"try-{attempt}"
        work.mkdir()
        log = work / "app.log"
        log.write_bytes(lines(1, 100))
        needs_birth_times(log)
        follower = Follower(log)
        first = follower.read(None, 1000, final=False)
        assert numbers(first.data) == list(range(1, 19))
        old_inode = log.stat().st_ino
        log.rename(work / "app.log.1")  # rotation 1: create
        log.write_bytes(lines(101, 200))
        compressed = gzip.compress((work / "app.log.1").read_bytes())
        (work / "app.log.2.gz").write_bytes(compressed)  # rotation 2: delaycompress
        (work / "app.log.1").unlink()
        log.rename(work / "app.log.1")
        log.write_bytes(lines(201, 300))
        if log.stat().st_ino == old_inode:
            return follower, first.cursor, log
        follower.close()
    pytest.skip(f"the file system never gave a freed inode to a new file in {REUSE_TRIES} tries")


def test_a_reused_inode_is_followed_without_a_gap(tmp_path: Path) -> None:
    follower, cursor, log = delaycompress_with_reuse(tmp_path)
    assert cursor.inode == log.stat().st_ino  # the live file holds the cursor's old inode
    rest, gaps, _ = read_rest(follower, cursor)
    assert gaps == []
    assert numbers(rest) == list(range(19, 301))
    follower.close()


def test_a_compressed_file_still_being_written_is_waited_for(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines(1, 100))
    follower = Follower(log)
    first = follower.read(None, 1000, final=False)
    log.rename(tmp_path / "app.log.1")
    log.write_bytes(lines(101, 200))
    # A compressor that removes its input early: only the .gz can hold the cursor's file.
    gz = tmp_path / "app.log.1.gz"
    compressed = gzip.compress((tmp_path / "app.log.1").read_bytes())
    gz.write_bytes(b"")
    (tmp_path / "app.log.1").unlink()
    got, cursor = first.data, first.cursor
    for written in (b"", compressed[:12]):  # nothing of the stream is readable yet
        gz.write_bytes(written)
        read = follower.read(cursor, 1000, final=False)
        assert (read.data, read.gap, read.cursor) == (b"", None, cursor), len(written)
    gz.write_bytes(compressed[: len(compressed) // 2])
    read = follower.read(cursor, 1000, final=False)  # what is readable so far, if anything
    assert read.gap is None
    got, cursor = got + read.data, read.cursor
    gz.write_bytes(compressed)
    rest, gaps, _ = read_rest(follower, cursor)
    assert gaps == []
    assert numbers(got + rest) == list(range(1, 201))
    follower.close()


def test_copytruncate_is_still_reported(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines(1, 100))
    needs_birth_times(log)
    follower = Follower(log)
    first = follower.read(None, 1000, final=False)
    shutil.copyfile(log, tmp_path / "app.log.1")  # logrotate's copy, then its truncate
    with log.open("r+b") as live:
        live.truncate(0)
    with log.open("ab") as live:
        live.write(lines(151, 200))  # 101..150 were written between copy and truncate
    rest, gaps, cursor = read_rest(follower, first.cursor)
    assert gaps == [COPYTRUNCATE]
    assert numbers(first.data + rest) == [*range(1, 101), *range(151, 201)]
    assert cursor.inode == log.stat().st_ino
    follower.close()


def copytruncate(log: Path) -> None:
    """What logrotate's copytruncate does: copy to ``.1`` (replacing it), truncate in place."""
    shutil.copyfile(log, log.with_name(log.name + ".1"))
    with open(log, "r+b") as f:
        f.truncate(0)


def test_a_cursor_at_offset_0_after_a_truncation_still_finds_the_next_copy(
    tmp_path: Path,
) -> None:
    """A reader left at the start of a just-truncated log (the cursor a gap hands out)
    while a second copytruncate runs reads the copy first: nothing on disk is skipped."""
    log = tmp_path / "app.log"
    log.write_bytes(lines(1, 50))
    follower = Follower(log)
    data, gaps, cursor = read_rest(follower, FileCursor(0, 0))
    copytruncate(log)
    with open(log, "ab") as f:
        f.write(lines(51, 60))
    data, gaps, cursor = read_rest(follower, cursor)
    assert numbers(data) == list(range(51, 61)) and gaps == [COPYTRUNCATE]
    # Now a cursor at offset 0 of the new content, as a gap left it and a client kept it.
    at_start = follower.read(cursor._replace(offset=0, head_sha1=None, head_bytes=0), 0, False)
    assert at_start.cursor.offset == 0 and at_start.cursor.head_bytes > 0
    with open(log, "ab") as f:
        f.write(lines(61, 80))
    copytruncate(log)  # 51-80 now only in app.log.1
    with open(log, "ab") as f:
        f.write(lines(81, 90))
    data, gaps, _ = read_rest(follower, at_start.cursor)
    assert numbers(data) == list(range(51, 91))
    assert gaps == [COPYTRUNCATE]
