"""The supervisor's watch on the job's output: Python tracebacks and out-of-memory lines.

Output arrives in pipe-sized chunks; it is split at ``\\n`` and ``\\r`` (Keras redraws its
progress bar with ``\\r`` and ``\\b``), ANSI escapes and backspaces are dropped, bytes that
are not UTF-8 are replaced, and a huge line is kept only up to ``MAX_LINE_BYTES`` (the rest
is skipped without being held). Nothing here may hurt the job: errors are logged.
"""

from __future__ import annotations

import logging
import re
from typing import Callable, Optional

from .alerts import MAX_DETAIL_BYTES

log = logging.getLogger("remote_agent.alertwatch")

RaiseAlert = Callable[[str, str, str, Optional[str]], object]

MAX_LINE_BYTES = 4096
TRACEBACK_START = "Traceback (most recent call last):"
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_OOM = re.compile(
    r"ResourceExhaustedError|OOM when allocating|CUDA_ERROR_OUT_OF_MEMORY|CUDA out of memory"
    r"|Out of memory|\bMemoryError\b"
)
_SEPARATORS = re.compile(rb"[\r\n]")
# What a line must hold to matter here, searched in the raw bytes of a whole chunk at C
# speed: output without it (nearly all of it) is not split into lines at all, so the
# supervisor copies hundreds of MB/s of plain output with the watch on.
_TRIGGER = re.compile(
    rb"Traceback \(most recent call last\):|ResourceExhaustedError|OOM when allocating"
    rb"|CUDA_ERROR_OUT_OF_MEMORY|CUDA out of memory|Out of memory|MemoryError"
)
_TRIGGER_MAX = len(b"Traceback (most recent call last):")  # the longest trigger


def clean_line(raw: bytes) -> str:
    """A line as a person would read it: decoded, escapes and backspaces gone."""
    text = raw.decode("utf-8", "replace")
    return _ANSI.sub("", text).replace("\b", "").rstrip()


class OutputScanner:
    """Fed the job's output bytes in order; raises ``traceback`` and ``oom`` alerts."""

    def __init__(self, raise_alert: RaiseAlert) -> None:
        self.raise_alert = raise_alert
        self._partial = b""
        self._skipping = False  # inside a line past MAX_LINE_BYTES
        self._traceback: list[str] | None = None
        self._traceback_bytes = 0
        self._last_oom: str | None = None

    def feed(self, data: bytes) -> None:
        """Scan a chunk of output (never raises: the job's output must keep flowing)."""
        try:
            self._feed(data)
        except Exception:
            log.exception("scanning the output for alerts failed")

    def flush(self) -> None:
        """The output ended: scan a last unterminated line and close an open traceback."""
        try:
            if self._partial:
                self._line(clean_line(self._partial))
                self._partial = b""
            if self._traceback is not None:
                lines, self._traceback = self._traceback, None
                self._emit_traceback(lines, lines[-1] if len(lines) > 1 else TRACEBACK_START)
        except Exception:
            log.exception("scanning the output for alerts failed")

    def _feed(self, data: bytes) -> None:
        if self._traceback is None and not self._may_matter(data):
            # Nothing to find: keep only the unterminated last line (it may go on).
            last = max(data.rfind(b"\n"), data.rfind(b"\r"))
            if last >= 0:
                self._partial, self._skipping = b"", False
            self._piece(data[last + 1 :], ends_line=False)
            return
        start = 0
        for match in _SEPARATORS.finditer(data):
            self._piece(data[start : match.start()], ends_line=True)
            start = match.end()
        self._piece(data[start:], ends_line=False)

    def _may_matter(self, data: bytes) -> bool:
        """Whether the line being read or the chunk holds a trigger (also across the two,
        searched without copying the chunk)."""
        edge = _TRIGGER_MAX - 1
        return bool(
            _TRIGGER.search(data)
            or _TRIGGER.search(self._partial)
            or _TRIGGER.search(self._partial[-edge:] + data[:edge])
        )

    def _piece(self, piece: bytes, ends_line: bool) -> None:
        if not self._skipping:
            room = MAX_LINE_BYTES - len(self._partial)
            self._partial += piece[:room]
            if len(piece) > room:
                self._skipping = True
        if ends_line:
            line, self._partial, self._skipping = self._partial, b"", False
            if line:
                self._line(clean_line(line))

    def _line(self, line: str) -> None:
        if not line.strip():
            return
        if self._traceback is not None:
            if line[:1] in (" ", "\t"):
                self._traceback.append(line)
                self._traceback_bytes += len(line) + 1
                if self._traceback_bytes > 4 * MAX_DETAIL_BYTES:
                    del self._traceback[1:-20]  # keep the start and the newest frames
                    self._traceback_bytes = sum(len(part) + 1 for part in self._traceback)
            else:
                lines, self._traceback = self._traceback, None
                lines.append(line)
                self._emit_traceback(lines, line)
        elif TRACEBACK_START in line:
            self._traceback = [line]
            self._traceback_bytes = len(line)
        self._check_oom(line)

    def _emit_traceback(self, lines: list[str], exception_line: str) -> None:
        self.raise_alert("traceback", "error", exception_line.strip(), "\n".join(lines))

    def _check_oom(self, line: str) -> None:
        if not _OOM.search(line):
            return
        message = line.strip()
        if message == self._last_oom:  # TensorFlow repeats its OOM line: one alert
            return
        self._last_oom = message
        self.raise_alert("oom", "error", message, None)
