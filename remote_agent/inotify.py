"""Waiting for a directory to change: Linux inotify through ctypes, else a short sleep.

A followed log is watched through its directory (a rotation renames and creates files
there, a write modifies one), so an idle subscription sleeps in ``select`` on the
inotify descriptor instead of polling the disk. Regular files are never ``poll``-ed:
they are always "ready". Only events whose (directory, name) ``wanted`` accepts end a
wait, and after events it does not want it pauses ``NEIGHBOUR_PAUSE_S``, so a chatty
neighbour file costs a few wake-ups a second, never a busy loop. Without inotify (not
Linux, no libc, watches exhausted) the waits are plain ``POLL_S`` sleeps.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import select
import struct
import threading
import time
from pathlib import Path
from typing import Any, Callable

POLL_S = 0.1
NEIGHBOUR_PAUSE_S = 0.02
_EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len (then the name)
IN_Q_OVERFLOW = 0x4000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
# IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
# | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF
WATCH_MASK = 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


Wanted = Callable[[Path, str], bool]


class DirWatch:
    """Wakes up when something ``wanted`` in one of ``dirs`` changes (anything, without
    ``wanted``), or when ``wake`` is called."""

    def __init__(self, dirs: list[Path], wanted: Wanted | None = None) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()  # wake() never writes to a closed (reused) fd
        self._fd = -1
        self._dirs: dict[int, Path] = {}  # watch descriptor -> directory
        self._wanted = wanted
        self._wake_r, self._wake_w = os.pipe()
        with contextlib.suppress(OSError, AttributeError):
            self._fd = self._watch(dirs)

    def _watch(self, dirs: list[Path]) -> int:
        libc = _libc()
        if libc is None:
            return -1
        fd = int(libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC))
        if fd < 0:
            return -1
        for path in dirs:
            wd = libc.inotify_add_watch(fd, os.fsencode(str(path)), WATCH_MASK)
            if wd < 0:
                os.close(fd)  # a directory that is not there yet: poll instead
                return -1
            self._dirs[wd] = path
        return fd

    @property
    def uses_inotify(self) -> bool:
        return self._fd >= 0

    def wait(self, timeout: float) -> bool:
        """Sleep until a wanted change (True), ``timeout`` (False) or ``wake``; polls
        without inotify."""
        if self._stop.is_set():
            return False
        if self._fd < 0:
            self._stop.wait(min(timeout, POLL_S))
            return True  # unknown: have a look
        deadline = time.monotonic() + timeout
        while True:
            rest = deadline - time.monotonic()
            ready, _, _ = select.select([self._fd, self._wake_r], [], [], max(rest, 0.0))
            if self._fd not in ready or self._stop.is_set():
                return False
            if self._drain():
                return True
            # Only a neighbour changed: let its events pile up (and merge) for a while.
            if self._stop.wait(min(NEIGHBOUR_PAUSE_S, max(rest, 0.0))) or rest <= 0:
                return False

    def _drain(self) -> bool:
        """Read every queued event; whether one of them is wanted."""
        buf = b""
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(self._fd, 65536):
                buf += chunk
        if self._wanted is None:
            return True
        return any([self._is_wanted(*event) for event in _events(buf)])  # ``wanted`` sees all

    def _is_wanted(self, wd: int, mask: int, name: str) -> bool:
        directory = self._dirs.get(wd)
        if mask & IN_Q_OVERFLOW or directory is None or not name:
            return True  # events were lost, or the directory itself changed: have a look
        return self._wanted is None or self._wanted(directory, name)

    def wake(self) -> None:
        """End the current and every later ``wait`` at once (the subscription is stopping)."""
        with self._lock:
            if self._stop.is_set():
                return
            self._stop.set()
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"x")

    def close(self) -> None:
        """Close the descriptors; call from the thread that waits, after its last wait."""
        with self._lock:
            self._stop.set()
            for fd in (self._fd, self._wake_r, self._wake_w):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._fd = self._wake_r = self._wake_w = -1


def _events(buf: bytes) -> list[tuple[int, int, str]]:
    """(watch descriptor, mask, name) of each ``struct inotify_event`` in ``buf``."""
    events = []
    at = 0
    while at + _EVENT.size <= len(buf):
        wd, mask, _cookie, length = _EVENT.unpack_from(buf, at)
        name = buf[at + _EVENT.size : at + _EVENT.size + length].rstrip(b"\0")
        events.append((wd, mask, os.fsdecode(name)))
        at += _EVENT.size + length
    return events
