"""``run-job <dir>``: the job supervisor, detached from the agent and from SSH.

It runs the command with ``bash -lc`` in its own process group, copies the combined
output into the rotating ``output.log`` (and, in tmux mode, to the pane a person can
attach to), records the job's life in ``state.json`` by atomic replace, and turns stop
requests into SIGTERM to the group, then SIGKILL after the grace.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from . import protocol
from .alertprobes import GpuIdleWatcher, idle_threshold_s, start_nan_watch
from .alerts import AlertWriter
from .alertwatch import OutputScanner
from .gpujobs import CUDA_VISIBLE_DEVICES, JobProcs
from .gpurecord import GpuRecorder
from .jobenv import job_environment
from .procinfo import process_start_time
from .rotating import RotatingLog
from .statefile import atomic_write_json, read_json
from .timeindex import TimeIndexWriter

log = logging.getLogger("remote_agent.supervisor")

# After the command exits, how long to keep reading output that its background
# children still write into the shared pipe.
DRAIN_AFTER_EXIT_S = 2.0

# A login shell's profile may reset PATH (Debian's /etc/profile does), which would hide
# the virtualenv or conda env the job was launched from: put the launching PATH back in
# front, keeping what the profile added behind it.
KEEP_PATH = 'PATH="${TFDASH_LAUNCH_PATH:+$TFDASH_LAUNCH_PATH:}$PATH"; export PATH; '


class Supervisor:
    def __init__(self, job_dir: Path) -> None:
        self.job_dir = job_dir
        spec = read_json(job_dir / "spec.json")
        if spec is None:
            raise SystemExit(f"run-job: {job_dir} holds no readable spec.json")
        self.spec = spec
        self.state: dict[str, Any] = read_json(job_dir / "state.json") or {"revision": 0}
        self.child: subprocess.Popen | None = None  # type: ignore[type-arg]
        self.stop_requested = False
        self.tty_fd: int | None = None
        self._kill_timer: threading.Timer | None = None
        # Alerts (docs/alerts.md): written to alerts.jsonl, listed by alerts.list.
        self.alerts = AlertWriter(job_dir, spec["id"])
        self.scanner = OutputScanner(self.alerts.raise_alert)

    def write_state(self, **changes: Any) -> None:
        self.state.update(changes)
        self.state["revision"] = int(self.state.get("revision", 0)) + 1
        atomic_write_json(self.job_dir / "state.json", self.state)

    def run(self) -> int:
        if self.spec.get("mode") == protocol.MODE_TMUX and os.isatty(1):
            self.tty_fd = 1
            flags = fcntl.fcntl(1, fcntl.F_GETFL)
            # Never let a slow or detached terminal hold up the job: drop what it can't take.
            fcntl.fcntl(1, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the tmux pane or terminal went away
        me = os.getpid()
        base = read_json(self.job_dir / "environ.json") or dict(os.environ)
        logcfg = self.spec.get("log") or {}
        times = TimeIndexWriter(self.job_dir / "output.times")
        output = RotatingLog(
            self.job_dir / "output.log",
            int(logcfg.get("max_bytes", protocol.DEFAULT_LOG_MAX_BYTES)),
            int(logcfg.get("backups", protocol.DEFAULT_LOG_BACKUPS)),
            on_write=times.on_write,
        )
        shell = shutil.which("bash") or "/bin/sh"
        env = job_environment(self.spec, base, self.job_dir)
        try:
            self.child = subprocess.Popen(
                [shell, "-lc", KEEP_PATH + self.spec["command"]],
                cwd=self.spec["cwd"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as e:
            output.close()
            times.close()
            self._alert_end(f"failed: could not start {shell}: {e}", "error")
            self.write_state(
                state=protocol.STATE_FAILED,
                error=f"could not start {shell}: {e}",
                supervisor_pid=me,
                ended_at=time.time(),
            )
            return 1
        child = self.child
        self.write_state(
            state=protocol.STATE_RUNNING,
            pid=child.pid,
            pgid=child.pid,
            start_time=process_start_time(child.pid),
            supervisor_pid=me,
            supervisor_start_time=process_start_time(me),
            started_at=time.time(),
        )
        devices = env.get(CUDA_VISIBLE_DEVICES)
        idle = GpuIdleWatcher(
            self.spec["id"], devices, idle_threshold_s(self.spec), self.alerts.raise_alert
        )
        gpus = GpuRecorder(
            self.job_dir,
            JobProcs(self.spec["id"], child.pid, child.pid, devices),
            on_sample=idle.on_sample,
        )
        gpus.start()
        nan = start_nan_watch(self.spec, self.alerts.raise_alert)
        if (self.job_dir / "stop.json").exists():  # stopped while it was starting
            self._begin_stop(signal.SIGTERM)
        assert child.stdout is not None
        reader = threading.Thread(
            target=self._copy_output, args=(child.stdout, output), daemon=True
        )
        reader.start()
        returncode = child.wait()
        gpus.stop()
        reader.join(DRAIN_AFTER_EXIT_S)
        self.scanner.flush()
        if nan is not None:
            nan.stop()
        output.close()
        times.close()
        return self._finish(returncode)

    def _alert_end(self, how: str, severity: str) -> None:
        self.alerts.raise_alert("ended", severity, "{} {}".format(self.spec["name"], how))

    def _copy_output(self, pipe: Any, output: RotatingLog) -> None:
        fd = pipe.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return
            if not data:
                return
            try:
                output.write(data)
            except OSError as e:  # disk full: say so once, keep draining so the job never blocks
                log.error("cannot write output.log: %s", e)
            self._echo(data)
            self.scanner.feed(data)

    def _echo(self, data: bytes) -> None:
        if self.tty_fd is None:
            return
        try:
            os.write(self.tty_fd, data)
        except BlockingIOError:
            pass  # the pane is behind: the log on disk has everything
        except OSError:
            self.tty_fd = None

    def _on_stop_signal(self, signum: int, frame: Any) -> None:
        self._begin_stop(signum)

    def _begin_stop(self, signum: int) -> None:
        """Forward the signal to the job's group; after SIGTERM, SIGKILL follows the grace."""
        self.stop_requested = True
        child = self.child
        if child is None or child.returncode is not None:
            return
        _killpg(child.pid, signum)
        if signum == signal.SIGTERM and self._kill_timer is None:
            stop = read_json(self.job_dir / "stop.json") or {}
            grace = float(stop.get("grace_s", protocol.DEFAULT_STOP_GRACE_S))
            self._kill_timer = threading.Timer(grace, _killpg, (child.pid, signal.SIGKILL))
            self._kill_timer.daemon = True
            self._kill_timer.start()

    def _finish(self, returncode: int) -> int:
        if self._kill_timer is not None:
            self._kill_timer.cancel()
        child = self.child
        if self.stop_requested and child is not None:
            _killpg(child.pid, signal.SIGKILL)  # what is left of the group was asked to stop
        signame = None
        exit_code = returncode
        if returncode < 0:
            signame = _signal_name(-returncode)
            exit_code = 128 - returncode
        if self.stop_requested:
            state = protocol.STATE_STOPPED
        elif exit_code == 0:
            state = protocol.STATE_SUCCEEDED
        else:
            state = protocol.STATE_FAILED
        if state == protocol.STATE_STOPPED:
            self._alert_end("stopped", "info")
        elif state == protocol.STATE_SUCCEEDED:
            self._alert_end("succeeded (exit 0)", "info")
        elif signame is not None:
            self._alert_end(f"killed by {signame}", "error")
        else:
            self._alert_end(f"failed (exit {exit_code})", "error")
        self.write_state(state=state, exit_code=exit_code, signal=signame, ended_at=time.time())
        self._echo(
            "\n[tfdash] job {} {} (exit code {})\n".format(
                self.spec["id"], state, exit_code
            ).encode()
        )
        return 0


def _killpg(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


# Set in the supervisor's environment once it runs with the agent's (see below).
AGENT_ENV_MARK = "TFDASH_SUPERVISOR_AGENT_ENV"


def _exec_with_agent_environment(job_dir: Path) -> None:
    """Under tmux the supervisor starts with the tmux server's environment, which may be
    days older than the agent's (no LD_LIBRARY_PATH for NVML, another PYTHONPATH): run it
    again, once, with the environment the agent launched the job from (environ.json)."""
    spec = read_json(job_dir / "spec.json") or {}
    base = read_json(job_dir / "environ.json")
    if spec.get("mode") != protocol.MODE_TMUX or base is None or os.environ.get(AGENT_ENV_MARK):
        return
    from .launch import supervisor_command

    argv = supervisor_command(job_dir)
    env = {str(k): str(v) for k, v in base.items() if k not in ("TMUX", "TMUX_PANE")}
    for name in ("TMUX", "TMUX_PANE"):  # the pane's own: tmux attach and the echo need them
        if name in os.environ:
            env[name] = os.environ[name]
    if argv[0] == "env":  # env PYTHONPATH=... python ...: the package on the path
        name, _, value = argv[1].partition("=")
        env[name] = value
        argv = argv[2:]
    env[AGENT_ENV_MARK] = "1"
    os.execve(argv[0], argv, env)


def run_job(job_dir: str) -> int:
    path = Path(job_dir).absolute()
    _exec_with_agent_environment(path)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s supervisor[%(process)d] %(levelname)s %(message)s",
    )
    try:
        return Supervisor(path).run()
    except Exception:
        log.exception("supervisor failed")
        raise
