"""A log file and its rotated siblings on disk, oldest first, as logrotate names them.

Recognised names: ``name.N`` and ``name.N.gz`` (higher N is older, ``name.0`` is the
newest), ``name-DATE`` and ``name-DATE.gz`` (logrotate's ``dateext``; dates sort as
text). Other names next to the log (``.backup`` from a logrotate race, editor files)
are not part of the chain.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import time
from pathlib import Path
from typing import NamedTuple, Tuple

_NUMBERED = re.compile(r"\.([0-9]+)(\.gz)?")
_DATED = re.compile(r"-([0-9][0-9_.-]*[0-9])(\.gz)?")


class LogFile(NamedTuple):
    """One file of the set as listed: where, which inode, its size then, gzip or not."""

    path: Path
    inode: int
    size: int
    compressed: bool
    mtime: float = 0.0


SortKey = Tuple[int, int, str, int]
STABLE_TRIES = 20


class Moved(Exception):
    """A file changed name between listing and opening (logrotate at work): try again."""


class _OwningGzip(gzip.GzipFile):
    """A gzip reader over a file it opened itself, and closes with itself."""

    def __init__(self, raw: io.BufferedReader) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def open_log(log: LogFile) -> io.BufferedIOBase:
    """Open ``log`` (decompressing a .gz), refusing another file that took its name."""
    raw = open(str(log.path), "rb")  # noqa: SIM115 - returned to the caller
    if os.fstat(raw.fileno()).st_ino != log.inode:
        raw.close()
        raise Moved(str(log.path))
    return _OwningGzip(raw) if log.compressed else raw


def _sort_key(base: str, name: str) -> SortKey | None:
    """Oldest first: dated names by date, then numbered by descending N; None if neither."""
    suffix = name[len(base) :]
    numbered = _NUMBERED.fullmatch(suffix)
    if numbered:
        # A plain file sorts after its own .gz (mid-compression both exist, same content).
        return (1, -int(numbered.group(1)), "", 0 if numbered.group(2) else 1)
    dated = _DATED.fullmatch(suffix)
    if dated:
        return (0, 0, dated.group(1), 0 if dated.group(2) else 1)
    return None


def rotated_set(current: Path) -> list[LogFile]:
    """The set as two identical listings in a row see it, so a rename cascade is not torn."""
    files = _list_once(current)
    for _ in range(STABLE_TRIES):
        again = _list_once(current)
        if [(f.path, f.inode) for f in again] == [(f.path, f.inode) for f in files]:
            return again
        files = again
        time.sleep(0.005)
    return files


def _list_once(current: Path) -> list[LogFile]:
    """The rotated siblings of ``current`` (oldest first), then ``current`` if it exists."""
    base = current.name
    keyed: list[tuple[SortKey, LogFile]] = []
    try:
        names = os.listdir(str(current.parent))
    except (FileNotFoundError, NotADirectoryError):
        return []
    for name in names:
        if not name.startswith(base) or name == base:
            continue
        key = _sort_key(base, name)
        if key is None:
            continue
        path = current.with_name(name)
        try:
            st = os.stat(str(path))
        except FileNotFoundError:
            continue
        compressed = name.endswith(".gz")
        keyed.append((key, LogFile(path, st.st_ino, st.st_size, compressed, st.st_mtime)))
    keyed.sort(key=lambda pair: pair[0])
    files = [log for _, log in keyed]
    try:
        st = os.stat(str(current))
        files.append(LogFile(current, st.st_ino, st.st_size, False, st.st_mtime))
    except FileNotFoundError:
        pass
    return files
