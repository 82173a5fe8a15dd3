"""Jobs on disk: launch a detached supervisor, list, stop and remove jobs.

A job is a directory ``$TFDASH_HOME/jobs/<id>/`` holding ``spec.json`` (what was asked,
written once by the agent), ``environ.json`` (the base environment), ``state.json``
(written by the supervisor after launch), ``stop.json`` (a stop request) and the logs.
The agent never keeps jobs in memory: every call reads the directory, so a new agent
sees exactly what an old one left.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import secrets
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

from . import protocol
from .alerts import check_idle_minutes, raise_lost
from .errors import Conflict, InvalidParams, LaunchFailed, NotFound
from .exportstate import active_export
from .launch import LaunchRequest, parse_launch, start_supervisor
from .paths import ensure_private_dir
from .procinfo import is_same_process
from .statefile import atomic_write_json, read_json
from .validate import JOB_ID_RE, check_job_id

LAUNCH_WAIT_S = 10.0
STARTING_TIMEOUT_S = 30.0
REQUEST_TTL_S = 7 * 24 * 3600.0
# Written after a tmux-mode launch: {"socket": the tmux server's socket path}.
TMUX_FILE = "tmux.json"


class JobStore:
    """All jobs under one ``$TFDASH_HOME``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.jobs_root = ensure_private_dir(ensure_private_dir(home) / "jobs")
        self.requests_root = ensure_private_dir(home / "requests")
        self._prune_requests()

    def _prune_requests(self) -> None:
        """Forget request ids older than any client would still retry."""
        cutoff = time.time() - REQUEST_TTL_S
        for entry in os.scandir(str(self.requests_root)):
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)

    # -- reading ---------------------------------------------------------------------

    def job_dir(self, job_id: str) -> Path:
        check_job_id(job_id)
        path = self.jobs_root / job_id
        if not (path / "spec.json").is_file():
            raise NotFound(f"no job with id {job_id!r} on this host", {"id": job_id})
        return path

    def get(self, job_id: str) -> dict[str, Any]:
        job = self._view(self.job_dir(job_id))
        if job is None:
            raise NotFound(f"job {job_id!r} has no readable spec", {"id": job_id})
        return job

    def list(self) -> builtins.list[dict[str, Any]]:
        jobs = []
        for entry in sorted(os.listdir(str(self.jobs_root))):
            if JOB_ID_RE.match(entry):
                job = self._view(self.jobs_root / entry)
                if job is not None:
                    jobs.append(job)
        # Ids sort by second only; jobs launched in the same second go by creation time.
        jobs.sort(key=lambda job: (job.get("created_at") or 0.0, job["id"]))
        return jobs

    def _view(self, job_dir: Path) -> dict[str, Any] | None:
        """The job object of docs/protocol.md: spec + state + stop request, `lost` computed."""
        spec = read_json(job_dir / "spec.json")
        if spec is None:
            return None
        state = read_json(job_dir / "state.json") or {"state": protocol.STATE_STARTING}
        if state.get("state") in protocol.ACTIVE_STATES and not self._supervisor_alive(state, spec):
            # The supervisor may have written its final state just before exiting: read again.
            state = read_json(job_dir / "state.json") or state
            if state.get("state") in protocol.ACTIVE_STATES:
                state = dict(state, state=protocol.STATE_LOST, error=self._lost_reason(state))
                raise_lost(job_dir, spec)  # once: its supervisor cannot say it ended
        stop = read_json(job_dir / "stop.json") or {}
        job = {
            "id": spec["id"],
            "name": spec["name"],
            "command": spec["command"],
            "cwd": spec["cwd"],
            "env": spec.get("env", {}),
            "mode": spec["mode"],
            "gpus": spec.get("gpus"),
            "logdir": spec.get("logdir"),
            "log": spec.get("log"),
            "export": spec.get("export"),
            "gpu_idle_minutes": spec.get("gpu_idle_minutes"),
            "request_id": spec.get("request_id"),
            "tmux_session": spec.get("tmux_session"),
            "tmux_socket": _tmux_socket(job_dir) if spec.get("tmux_session") else None,
            "created_at": spec.get("created_at"),
            "job_dir": str(job_dir),
            "log_path": str(job_dir / "output.log"),
            "stop_requested_at": stop.get("requested_at"),
        }
        for key in ("state", "pid", "pgid", "supervisor_pid", "started_at", "ended_at"):
            job[key] = state.get(key)
        for key in ("exit_code", "signal", "error"):
            job[key] = state.get(key)
        return job

    def _supervisor_alive(self, state: dict[str, Any], spec: dict[str, Any]) -> bool:
        pid = state.get("supervisor_pid")
        if pid:
            return is_same_process(pid, state.get("supervisor_start_time"))
        # Not reported yet: give a starting supervisor its time.
        return time.time() - float(spec.get("created_at", 0)) < STARTING_TIMEOUT_S

    @staticmethod
    def _lost_reason(state: dict[str, Any]) -> str:
        pid = state.get("supervisor_pid")
        if not pid:
            return "the supervisor never reported that it started"
        reason = f"the supervisor (pid {pid}) is gone without recording an end"
        if is_same_process(state.get("pid"), state.get("start_time")):
            reason += "; its command (pid {}) is still running".format(state.get("pid"))
        return reason

    # -- launching -------------------------------------------------------------------

    def launch(self, params: Any) -> dict[str, Any]:
        request = parse_launch(params)
        idle_minutes = check_idle_minutes(params.raw.get("gpu_idle_minutes"))
        if request.request_id is not None:
            existing = self._job_for_request(request.request_id)
            if existing is not None:
                return self._wait_started(existing)
        job_dir = self._new_job_dir()
        job_id = job_dir.name
        spec = request.spec(job_id)
        if idle_minutes is not None:
            spec["gpu_idle_minutes"] = idle_minutes
        atomic_write_json(job_dir / "spec.json", spec)
        environ = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        atomic_write_json(job_dir / "environ.json", environ)
        atomic_write_json(job_dir / "state.json", {"state": protocol.STATE_STARTING, "revision": 0})
        if request.request_id is not None and not self._claim_request(request.request_id, job_id):
            # A concurrent retry of the same request won: answer with its job.
            shutil.rmtree(str(job_dir), ignore_errors=True)
            existing = self._job_for_request(request.request_id)
            if existing is None:
                raise Conflict(f"request {request.request_id!r} is being served")
            return self._wait_started(existing)
        self._start(request, job_dir)
        return self._wait_started(job_id)

    def _new_job_dir(self) -> Path:
        for _ in range(100):
            job_id = "{}-{}".format(
                time.strftime("%Y%m%d-%H%M%S", time.gmtime()), secrets.token_hex(2)
            )
            path = self.jobs_root / job_id
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                continue
            return path
        raise LaunchFailed(f"could not allocate a job id under {self.jobs_root}")

    def _request_path(self, request_id: str) -> Path:
        return self.requests_root / f"{request_id}.json"

    def _claim_request(self, request_id: str, job_id: str) -> bool:
        """Record request → job atomically; False if another launch claimed it first."""
        tmp = self.requests_root / f".{request_id}.{job_id}.tmp"
        atomic_write_json(tmp, {"job_id": job_id, "at": time.time()})
        try:
            os.link(str(tmp), str(self._request_path(request_id)))
        except FileExistsError:
            return False
        finally:
            os.unlink(str(tmp))
        return True

    def _job_for_request(self, request_id: str) -> str | None:
        record = read_json(self._request_path(request_id))
        if record is None:
            return None
        job_id = str(record.get("job_id"))
        if not (self.jobs_root / job_id / "spec.json").is_file():
            raise NotFound(
                f"request {request_id!r} already launched job {job_id}, "
                "which has since been removed",
                {"id": job_id},
            )
        return job_id

    def _start(self, request: LaunchRequest, job_dir: Path) -> None:
        try:
            socket = start_supervisor(request, job_dir)
        except LaunchFailed as e:
            self._record_failure(job_dir, e.message)
            raise
        if socket is not None:  # the tmux server to attach to (docs/protocol.md)
            atomic_write_json(job_dir / TMUX_FILE, {"socket": socket})

    def _record_failure(self, job_dir: Path, message: str) -> None:
        atomic_write_json(
            job_dir / "state.json",
            {
                "state": protocol.STATE_FAILED,
                "error": message,
                "ended_at": time.time(),
                "revision": 1,
            },
        )

    def _wait_started(self, job_id: str) -> dict[str, Any]:
        """The job once its supervisor reported the command's pid (or its failure)."""
        deadline = time.time() + LAUNCH_WAIT_S
        job_dir = self.job_dir(job_id)
        while True:
            job = self.get(job_id)
            if job["state"] != protocol.STATE_STARTING:
                break
            if time.time() > deadline:
                tail = _supervisor_log_tail(job_dir)
                message = "the supervisor did not start within {:.0f} s{}".format(
                    LAUNCH_WAIT_S, ": " + tail if tail else ""
                )
                self._record_failure(job_dir, message)
                raise LaunchFailed(message, {"id": job_id, "log": tail})
            time.sleep(0.02)
        if job["state"] == protocol.STATE_FAILED and job.get("pid") is None:
            raise LaunchFailed(
                "job {} could not start: {}".format(job_id, job.get("error")),
                {"id": job_id, "log": _supervisor_log_tail(job_dir)},
            )
        return job

    # -- stopping and removing ---------------------------------------------------------

    def stop(self, job_id: str, grace_s: float) -> dict[str, Any]:
        job = self.get(job_id)
        job_dir = self.job_dir(job_id)
        state = read_json(job_dir / "state.json") or {}
        orphan = job["state"] == protocol.STATE_LOST and is_same_process(
            state.get("pid"), state.get("start_time")
        )
        if job["state"] not in protocol.ACTIVE_STATES and not orphan:
            return job
        if job.get("stop_requested_at") is None:
            atomic_write_json(
                job_dir / "stop.json", {"requested_at": time.time(), "grace_s": grace_s}
            )
        supervisor = state.get("supervisor_pid")
        if supervisor and is_same_process(supervisor, state.get("supervisor_start_time")):
            # The supervisor forwards SIGTERM to the group and sends SIGKILL after the grace.
            _signal(supervisor, signal.SIGTERM, group=False)
        elif is_same_process(state.get("pid"), state.get("start_time")):
            self._stop_orphan_group(state, grace_s)
        # A supervisor still starting reads stop.json right after it spawns the command.
        return self.get(job_id)

    @staticmethod
    def _stop_orphan_group(state: dict[str, Any], grace_s: float) -> None:
        """The supervisor is gone but the command lives on: signal its group ourselves."""
        pgid, pid, start = (
            state.get("pgid") or state.get("pid"),
            state.get("pid"),
            state.get("start_time"),
        )
        _signal(pgid, signal.SIGTERM, group=True)

        def kill_later() -> None:
            deadline = time.time() + grace_s
            while time.time() < deadline:
                if not is_same_process(pid, start):
                    return
                time.sleep(0.1)
            _signal(pgid, signal.SIGKILL, group=True)

        threading.Thread(target=kill_later, daemon=True).start()

    def remove(self, job_id: str) -> dict[str, Any]:
        job = self.get(job_id)
        if job["state"] in protocol.ACTIVE_STATES:
            raise Conflict(
                "job {} is {}: stop it first".format(job_id, job["state"]), {"id": job_id}
            )
        exporting = active_export(Path(job["job_dir"]))
        if exporting is not None:
            raise Conflict(
                f"job {job_id} is being exported ({exporting}): wait for the export to end",
                {"id": job_id, "export": exporting},
            )
        shutil.rmtree(job["job_dir"])
        return {"id": job_id, "removed": True}


def _signal(pid: Any, sig: int, group: bool) -> None:
    if not isinstance(pid, int) or pid <= 1:
        raise InvalidParams("job state holds no valid pid")
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _tmux_socket(job_dir: Path) -> str | None:
    """The socket of the tmux server running the job's session (None: launched before
    tfdash recorded it)."""
    socket = (read_json(job_dir / TMUX_FILE) or {}).get("socket")
    return socket if isinstance(socket, str) else None


def _supervisor_log_tail(job_dir: Path, limit: int = 2000) -> str:
    try:
        with open(str(job_dir / "supervisor.log"), "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - limit))
            text = f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return text
