"""Lost and duplicated lines under forced logrotate runs: ours beside GNU ``tail -F``.

For each rotation mode, one sequence-numbered writer (tests/agent/log_writer.py) writes
``RATE`` lines a second for ``SECONDS`` s while logrotate is forced every second, and
three readers follow the same file through the same rotations: the agent's
``logs.subscribe`` (over pipes: the network plays no part here), ``tail -F`` (inotify)
and ``tail -F ---disable-inotify -s 1`` (polling).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from support.agent import AgentProcess
from support.isolation import isolated_env, kill_leftover_jobs, kill_tmux_server
from support.rotation import MODES, Received, Rig, RotationMode, line_number, subscribe

RATE = 20_000
SECONDS = 10
TAIL_SETTLE_S = 3.0  # after the writer: long enough for a 1 s polling tail to catch up
TAILS = {
    "`tail -F` (inotify)": ["tail", "-F", "-n", "+1"],
    "`tail -F ---disable-inotify -s 1`": [
        "tail",
        "-F",
        "---disable-inotify",
        "-s",
        "1",
        "-n",
        "+1",
    ],
}


@dataclass
class Outcome:
    """What one reader got, against what the writer wrote and what is still on disk."""

    tool: str
    written: int
    numbers: list[int]
    gaps: int
    garbled: int = 0  # lines that are not whole writer lines (spliced or cut)
    on_disk: int = 0

    def row(self, mode: str) -> str:
        unique = len(set(self.numbers))
        lost = self.written - unique
        destroyed = self.written - self.on_disk
        return (
            f"| {mode} | {self.tool} | {self.written:,} | {len(self.numbers):,} | {lost:,} "
            f"| {destroyed:,} | {len(self.numbers) - unique:,} | {self.gaps} | {self.garbled} |"
        )


def tail_outcome(tool: str, out: Path, err: Path, written: int) -> Outcome:
    numbers: list[int] = []
    garbled = 0
    for line in out.read_bytes().splitlines():
        if len(line) == 53 and line.startswith(b"line-"):
            numbers.append(line_number(line))
        else:
            garbled += 1
    gaps = err.read_text(errors="replace").count("truncated")
    return Outcome(tool, written, numbers, gaps, garbled)


def run_mode(mode: RotationMode, scratch: Path) -> list[Outcome]:
    """One writer, logrotate every second, three readers; their outcomes."""
    root = scratch / mode.name.replace("+", "-")
    rig = Rig(root, mode.config_options(root / "work"), interval_s=1.0)
    rig.log.touch()  # tail -F starts on an existing file; the writer appends to it
    count = RATE * SECONDS
    env = isolated_env(root)
    agent = AgentProcess(root / "tfdash-home", env)
    tails: dict[str, tuple[subprocess.Popen[bytes], Path, Path]] = {}
    for tool, argv in TAILS.items():
        out, err = root / f"{len(tails)}.out", root / f"{len(tails)}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen([*argv, str(rig.log)], stdout=stdout, stderr=stderr)
        tails[tool] = (process, out, err)
    try:
        time.sleep(0.5)  # both tails are watching
        command = rig.writer_command(mode.writer, count, RATE, sys.executable)
        job = agent.call(
            "jobs.launch", {"name": "w", "command": command, "cwd": str(rig.work), "mode": "nohup"}
        )
        sub = subscribe(agent, job["id"])
        ours = Received()
        failed: list[BaseException] = []

        def follow() -> None:
            try:
                ours.follow(agent, sub)
            except (AssertionError, ValueError) as exc:  # a bad stream ends the bench
                failed.append(exc)

        with rig:
            follower = threading.Thread(target=follow)
            follower.start()
            agent.wait_final(job["id"], timeout=SECONDS * 6)
        follower.join(60)
        if failed or follower.is_alive():
            raise RuntimeError(f"following {mode.name} failed: {failed or 'stream never ended'}")
        time.sleep(TAIL_SETTLE_S)
    finally:
        for process, _, _ in tails.values():
            process.terminate()
            process.wait(10)
        agent.close()
        kill_leftover_jobs(root / "tfdash-home")
        kill_tmux_server(env)
    on_disk = len(rig.numbers_on_disk())
    outcomes = [Outcome("tfdash agent (`logs.subscribe`)", count, ours.numbers, len(ours.gaps))]
    outcomes += [tail_outcome(tool, out, err, count) for tool, (_, out, err) in tails.items()]
    for outcome in outcomes:
        outcome.on_disk = on_disk
    print(f"{mode.name}: {len(rig.runs)} logrotate runs", file=sys.stderr)
    for note in ours.gap_notes:
        print(f"  stream.gap: {note['reason']} (bytes {note['bytes']})", file=sys.stderr)
    for run in rig.runs:
        if run.stderr.strip():
            print(f"  logrotate said: {run.stderr.strip()}", file=sys.stderr)
    return outcomes


def rotation_section(modes: list[str]) -> str:
    scratch = Path(tempfile.mkdtemp(prefix="tfdash-bench-rotation-"))
    rows = []
    try:
        for mode in (MODES[name] for name in modes):
            rows += [outcome.row(mode.name) for outcome in run_mode(mode, scratch)]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    tail_version = subprocess.run(
        ["tail", "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()[0]
    logrotate_version = subprocess.run(
        ["logrotate", "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()[0]
    return (
        "### Rotation: lost and duplicated lines\n\n"
        f"A writer of {RATE:,} numbered lines a second for {SECONDS} s; `logrotate -f` every\n"
        f"second ({logrotate_version}); three readers follow the same file through the same\n"
        f"rotations ({tail_version}). *Destroyed* is what is no longer on disk at the end\n"
        "(logrotate's own copytruncate loss: no reader can have it); *gaps* are the losses\n"
        "the reader was told about (`stream.gap`; tail's `file truncated`); *garbled* are\n"
        "output lines that are not whole writer lines.\n\n"
        "| mode | reader | written | received | lost | destroyed | duplicated | gaps "
        "| garbled |\n|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "In copytruncate mode a reader can still get lines that are no longer on disk if it\n"
        "reads the live file between logrotate's copy and its truncate. `tail -F` reads at\n"
        "every inotify event; the agent reads at every event too (at most every 1 ms, so a\n"
        "writer that never pauses cannot keep it busy) and still sends at most every 100 ms,\n"
        "so it gets most of them. Whatever it misses it reports as a gap, with the reason.\n"
    )
