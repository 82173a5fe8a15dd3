"""Waiting for a directory to change: Linux inotify through ctypes, else a short sleep.

A followed log is watched through its directory (a rotation renames and creates files
there, a write modifies one), so an idle subscription sleeps in ``select`` on the
inotify descriptor instead of polling the disk. Regular files are never ``poll``-ed:
they are always "ready". Without inotify (not Linux, no libc, watches exhausted) the
waits are plain ``POLL_S`` sleeps.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import select
import threading
from pathlib import Path
from typing import Any

POLL_S = 0.1
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
# IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
# | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF
WATCH_MASK = 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


class DirWatch:
    """Wakes up when something in one of ``dirs`` changes, or when ``wake`` is called."""

    def __init__(self, dirs: list[Path]) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()  # wake() never writes to a closed (reused) fd
        self._fd = -1
        self._wake_r, self._wake_w = os.pipe()
        with contextlib.suppress(OSError, AttributeError):
            self._fd = self._watch(dirs)

    @staticmethod
    def _watch(dirs: list[Path]) -> int:
        libc = _libc()
        if libc is None:
            return -1
        fd = int(libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC))
        if fd < 0:
            return -1
        for path in dirs:
            if libc.inotify_add_watch(fd, os.fsencode(str(path)), WATCH_MASK) < 0:
                os.close(fd)  # a directory that is not there yet: poll instead
                return -1
        return fd

    @property
    def uses_inotify(self) -> bool:
        return self._fd >= 0

    def wait(self, timeout: float) -> bool:
        """Sleep until a change (True), ``timeout`` (False) or ``wake``; polls without inotify."""
        if self._stop.is_set():
            return False
        if self._fd < 0:
            self._stop.wait(min(timeout, POLL_S))
            return True  # unknown: have a look
        ready, _, _ = select.select([self._fd, self._wake_r], [], [], timeout)
        if self._fd in ready:
            self._drain(self._fd)
            return True
        return False

    @staticmethod
    def _drain(fd: int) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(fd, 65536):
                pass

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
