"""A sequence-numbered log writer for the rotation tests and bench/logs.py.

``log_writer.py PATH MODE COUNT [RATE]`` appends ``line-0000001 xxx…`` lines, RATE a
second (default 4,000), one ``write`` each, in bursts of ``BURST`` lines, then exits.
MODE says how it lives with logrotate: ``append`` never reopens (for ``copytruncate``);
``reopen`` reopens when PATH names another file (after ``create`` replaced it; it never
creates PATH itself, so it cannot race logrotate's ``create``); ``sighup`` reopens on
SIGHUP from ``postrotate`` and writes its pid to ``writer.pid`` beside PATH (it looks at
the signal only every ``HUP_CHECK_EVERY`` lines, as a busy program would).
Standard library only (annotations are never evaluated): it also runs under the
system Python of an sshd's login user.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

BURST = 20
DEFAULT_RATE = 4000
# Like a real program, the sighup writer notices the signal only at its next checkpoint,
# so it keeps writing into the renamed file for a while (~0.1 s) after the rotation.
HUP_CHECK_EVERY = 400


def line(number: int) -> bytes:
    return b"line-%07d %s\n" % (number, b"x" * 40)


def main() -> None:
    path, mode, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    rate = float(sys.argv[4]) if len(sys.argv) > 4 else DEFAULT_RATE
    hup = [False]

    def on_hup(signum: int, frame: FrameType | None) -> None:
        hup[0] = True

    signal.signal(signal.SIGHUP, on_hup)
    (path.parent / "writer.pid").write_text(str(os.getpid()))
    flags = os.O_WRONLY | os.O_APPEND
    fd = os.open(str(path), flags | os.O_CREAT, 0o644)
    started = time.monotonic()
    for number in range(1, count + 1):
        os.write(fd, line(number))
        if number % BURST:
            continue
        ahead = started + number / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)  # paced by the clock, so a slow burst is caught up
        if mode == "sighup" and hup[0] and number % HUP_CHECK_EVERY == 0:
            hup[0] = False
            os.close(fd)
            fd = os.open(str(path), flags | os.O_CREAT, 0o644)
        elif mode == "reopen":
            try:
                if os.stat(str(path)).st_ino != os.fstat(fd).st_ino:
                    new_fd = os.open(str(path), flags)
                    os.close(fd)
                    fd = new_fd
            except FileNotFoundError:
                pass  # renamed, not yet created again: keep writing to the old file
    os.close(fd)


if __name__ == "__main__":
    main()
