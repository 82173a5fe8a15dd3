"""``output.log`` with size-based rotation: output.log → output.log.1 → … → output.log.N."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from .follow import HEAD_BYTES

# Told of every write before it happens: (inode, offset, the file's first bytes, data).
WriteHook = Callable[[int, int, bytes, bytes], None]


class RotatingLog:
    """Append-only byte log that rotates at ``max_bytes`` (0: never), cutting at line ends."""

    def __init__(
        self, path: Path, max_bytes: int, backups: int, on_write: WriteHook | None = None
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self.on_write = on_write
        self._open()

    def _open(self) -> None:
        self._fd = os.open(str(self.path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        st = os.fstat(self._fd)
        self.size, self.inode = st.st_size, st.st_ino
        self.head = b""  # the file's first HEAD_BYTES bytes, for the time index's cursors
        if self.size:
            with open(str(self.path), "rb") as f:
                self.head = f.read(HEAD_BYTES)

    def write(self, data: bytes) -> None:
        while data:
            room = self.max_bytes - self.size
            if self.max_bytes <= 0 or len(data) <= room:
                self._write(data)
                return
            # Fill this file up to the last whole line that fits, then rotate.
            cut = data.rfind(b"\n", 0, max(room, 0)) + 1
            if cut == 0 and self.size == 0:
                cut = len(data)  # a single line longer than the limit: keep it whole
            if cut:
                self._write(data[:cut])
                data = data[cut:]
            if data:
                self.rotate()

    def _write(self, data: bytes) -> None:
        if self.on_write is not None:
            self.on_write(self.inode, self.size, self.head, data)
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self.size += len(data)

    def rotate(self) -> None:
        """Rename output.log.i → .i+1 (dropping the oldest) and start an empty output.log."""
        os.close(self._fd)
        if self.backups > 0:
            for i in range(self.backups - 1, 0, -1):
                older = self._name(i)
                if older.exists():
                    os.replace(str(older), str(self._name(i + 1)))
            os.replace(str(self.path), str(self._name(1)))
        else:
            os.unlink(str(self.path))
        self._open()

    def _name(self, index: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{index}")

    def close(self) -> None:
        os.close(self._fd)
