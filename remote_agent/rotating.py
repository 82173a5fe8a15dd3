"""``output.log`` with size-based rotation: output.log → output.log.1 → … → output.log.N."""

from __future__ import annotations

import os
from pathlib import Path


class RotatingLog:
    """Append-only byte log that rotates at ``max_bytes`` (0: never), cutting at line ends."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._fd = self._open()
        self.size = os.fstat(self._fd).st_size

    def _open(self) -> int:
        return os.open(str(self.path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

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
        self._fd = self._open()
        self.size = 0

    def _name(self, index: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{index}")

    def close(self) -> None:
        os.close(self._fd)
