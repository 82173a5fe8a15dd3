"""Telling one log file from another: the fingerprint of its start and its birth time.

A cursor names its file by inode and by the sha1 of the file's first bytes; the start
is found again in a renamed or compressed file. An inode alone is not enough: a file
system gives a deleted file's inode to the next new file, and only the new file's birth
time (Linux ``statx``) tells it from a file truncated in place.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import time
from pathlib import Path
from typing import Any

from .siblings import LogFile, Moved, open_log

# A .gz this old that still cannot be read to its start is broken, not being written.
GZ_SETTLE_S = 30.0


def head_sha1(log: LogFile, count: int) -> str | None:
    """sha1 of the first ``count`` (decompressed) bytes, or None if the file is shorter."""
    try:
        with open_log(log) as f:
            head = f.read(count)
    except FileNotFoundError:
        raise Moved(str(log.path)) from None
    except (OSError, EOFError):  # not gzip after all, or a .gz still being written
        return None
    return hashlib.sha1(head).hexdigest() if len(head) == count else None


def same_start(log: LogFile, head_bytes: int, sha1: str | None) -> bool:
    """Whether ``log`` starts with the fingerprint (always, for an empty one)."""
    return head_bytes == 0 or head_sha1(log, head_bytes) == sha1


def holds_start(log: LogFile, head_bytes: int, sha1: str | None) -> bool | None:
    """Whether ``log`` starts with the fingerprint; None while it cannot tell yet (a young
    .gz that is empty or ends early: still being written)."""
    try:
        with open_log(log) as f:
            head = f.read(head_bytes)
    except FileNotFoundError:
        raise Moved(str(log.path)) from None
    except (OSError, EOFError):
        return None if _being_written(log) else False
    if len(head) < head_bytes:
        return None if log.size == 0 and _being_written(log) else False
    return hashlib.sha1(head).hexdigest() == sha1


def _being_written(log: LogFile) -> bool:
    return log.compressed and time.time() - log.mtime < GZ_SETTLE_S


def copy_of(copy: LogFile, live: LogFile) -> bool:
    """Whether ``copy`` can be what ``copytruncate`` made of ``live``: born no earlier.
    Unknown birth times keep the old answer (yes): a spurious gap, never a silent loss."""
    copy_born, live_born = born(copy), born(live)
    return copy_born is None or live_born is None or copy_born >= live_born


class _StatxTime(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_int64), ("nsec", ctypes.c_uint32), ("reserved", ctypes.c_int32)]


class _Statx(ctypes.Structure):
    """``struct statx`` (linux/stat.h), 256 bytes."""

    _fields_ = [
        ("mask", ctypes.c_uint32),
        ("blksize", ctypes.c_uint32),
        ("attributes", ctypes.c_uint64),
        ("nlink", ctypes.c_uint32),
        ("uid", ctypes.c_uint32),
        ("gid", ctypes.c_uint32),
        ("mode", ctypes.c_uint16),
        ("spare0", ctypes.c_uint16),
        ("ino", ctypes.c_uint64),
        ("size", ctypes.c_uint64),
        ("blocks", ctypes.c_uint64),
        ("attributes_mask", ctypes.c_uint64),
        ("atime", _StatxTime),
        ("btime", _StatxTime),
        ("ctime", _StatxTime),
        ("mtime", _StatxTime),
        ("spare", ctypes.c_uint64 * 16),
    ]


_AT_FDCWD = -100
_STATX_INO = 0x100
_STATX_BTIME = 0x800
_statx: list[Any] = []  # [libc.statx or None], looked up once


def born(log: LogFile) -> int | None:
    """When ``log`` was created (ns since the epoch), or None where the kernel, libc or
    file system cannot say, or its name now holds another inode."""
    if not _statx:
        name = ctypes.util.find_library("c")
        _statx.append(getattr(ctypes.CDLL(name, use_errno=True), "statx", None) if name else None)
    statx = _statx[0]
    if statx is None:
        return None
    buf = _Statx()
    mask = _STATX_INO | _STATX_BTIME
    if statx(_AT_FDCWD, os.fsencode(str(log.path)), 0, mask, ctypes.byref(buf)) != 0:
        return None
    if not buf.mask & _STATX_BTIME or buf.ino != log.inode:
        return None
    return int(buf.btime.sec) * 1_000_000_000 + int(buf.btime.nsec)


COPY_CHECK_BYTES = 256


def copy_in_progress(copy: LogFile, live_path: Path) -> bool:
    """Whether logrotate may still be writing ``copy`` of the live file: the live file is
    not truncated yet (as long as the copy and starting with the same bytes). Only once it
    is can a reader that reached the copy's end be sure the copy is complete."""
    try:
        copy_size = os.stat(str(copy.path)).st_size
        live_stat = os.stat(str(live_path))
    except FileNotFoundError:
        return False
    if copy_size == 0:
        return live_stat.st_size > 0  # an empty copy of a non-empty file: just started
    if live_stat.st_size < copy_size:
        return False  # truncated: the copy was finished before
    live = LogFile(live_path, live_stat.st_ino, live_stat.st_size, False)
    count = min(copy_size, COPY_CHECK_BYTES)
    try:
        return head_sha1(live, count) == head_sha1(copy, count)
    except Moved:
        return False
