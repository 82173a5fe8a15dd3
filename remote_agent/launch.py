"""Checking a launch request and starting its supervisor detached from the agent."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from pathlib import Path
from typing import Any

from . import protocol
from .detach import start_detached
from .errors import InvalidParams, LaunchFailed, Unavailable
from .hostinfo import tmux_version
from .paths import under_cwd
from .selfpath import agent_archive, agent_location, self_argv
from .validate import Params, check_export_spec, check_name

_GPUS_RE = re.compile(r"^[A-Za-z0-9,:\-]*$")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class LaunchRequest:
    """A validated ``jobs.launch``: nothing here has touched the disk yet."""

    def __init__(
        self,
        name: str,
        command: str,
        cwd: str,
        env: dict[str, str],
        mode: str,
        gpus: str | None,
        logdir: str | None,
        log_max_bytes: int,
        log_backups: int,
        request_id: str | None,
        export: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.command = command
        self.cwd = cwd
        self.env = env
        self.mode = mode
        self.gpus = gpus
        self.logdir = logdir
        self.log_max_bytes = log_max_bytes
        self.log_backups = log_backups
        self.request_id = request_id
        self.export = export

    def spec(self, job_id: str) -> dict[str, Any]:
        return {
            "id": job_id,
            "name": self.name,
            "command": self.command,
            "cwd": self.cwd,
            "env": self.env,
            "mode": self.mode,
            "gpus": self.gpus,
            "logdir": self.logdir,
            "log": {"max_bytes": self.log_max_bytes, "backups": self.log_backups},
            "request_id": self.request_id,
            "export": self.export,
            "tmux_session": protocol.TMUX_SESSION_PREFIX + job_id
            if self.mode == protocol.MODE_TMUX
            else None,
            "created_at": time.time(),
        }


def parse_launch(params: Params) -> LaunchRequest:
    """Validate every launch param; raise InvalidParams/Unavailable before anything starts."""
    request_id = params.get_str("request_id")
    if request_id is not None and not _REQUEST_ID_RE.match(request_id):
        raise InvalidParams(
            "request_id must be 1-128 characters of letters, digits and ._:-", "request_id"
        )
    name = check_name(params.get_str("name", required=True))
    command = params.get_str("command", required=True)
    if not command.strip():
        raise InvalidParams("command is empty: give the shell command to run", "command")
    if "\x00" in command:
        raise InvalidParams("command must not contain NUL", "command")
    cwd = _check_cwd(params.get_str("cwd"))
    env = params.get_str_map("env")
    mode = params.get_choice("mode", list(protocol.LAUNCH_MODES), protocol.MODE_AUTO)
    if mode == protocol.MODE_AUTO:
        mode = protocol.MODE_TMUX if tmux_version() else protocol.MODE_NOHUP
    elif mode == protocol.MODE_TMUX and not tmux_version():
        raise Unavailable(
            "tmux is not installed on this host: install it (e.g. apt-get install tmux) "
            "or launch with mode nohup",
            {"field": "mode"},
        )
    log = Params(params.get_object("log"))
    return LaunchRequest(
        name=name,
        command=command,
        cwd=cwd,
        env=env,
        mode=mode,
        gpus=_check_gpus(params.raw.get("gpus")),
        logdir=_check_logdir(params.get_str("logdir"), cwd),
        log_max_bytes=log.get_int("max_bytes", protocol.DEFAULT_LOG_MAX_BYTES, minimum=0),
        log_backups=log.get_int("backups", protocol.DEFAULT_LOG_BACKUPS, minimum=0),
        request_id=request_id,
        export=check_export_spec(params.raw.get("export")),
    )


def _check_cwd(value: str | None) -> str:
    home = os.path.expanduser("~")
    if value is None or value == "":
        return home
    if "\x00" in value:
        raise InvalidParams("cwd must not contain NUL", "cwd")
    path = os.path.abspath(os.path.join(home, os.path.expanduser(value)))
    if not os.path.isdir(path):
        what = "is not a directory" if os.path.exists(path) else "does not exist"
        raise InvalidParams(
            f"cwd {path} {what} on this host: create it or pick another directory",
            "cwd",
        )
    return path


def _check_logdir(value: str | None, cwd: str) -> str | None:
    """The job's TensorBoard logdir as given (relative to cwd, or absolute inside it); it
    need not exist yet (the job makes it)."""
    if value is None:
        return None
    under_cwd(cwd, value, "logdir", "directory")
    return value


def _check_gpus(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    ):
        return ",".join(str(v) for v in value)
    if isinstance(value, str) and _GPUS_RE.match(value.replace(" ", "")):
        return value.replace(" ", "")
    raise InvalidParams(
        'gpus must be a list of GPU indexes, or a string like "0,1" (or "" for none)', "gpus"
    )


def supervisor_command(job_dir: Path) -> list[str]:
    """argv that runs ``run-job`` with this very agent (zipapp or package)."""
    argv = self_argv("run-job", str(job_dir))
    if agent_archive():
        return argv
    # `env` puts the package on the path without leaking it into the job's own environment;
    # the agent's own PYTHONPATH stays behind it, so the supervisor imports what the agent
    # imports (e.g. pynvml from a directory on that path).
    inherited = os.environ.get("PYTHONPATH")
    path = os.pathsep.join([agent_location()] + ([inherited] if inherited else []))
    return ["env", "PYTHONPATH=" + path, *argv]


def start_supervisor(request: LaunchRequest, job_dir: Path) -> str | None:
    """Start ``run-job`` in its own session (nohup) or a detached tmux session; returns the
    tmux server's socket path (tmux mode), so a person can attach to exactly that server."""
    argv = supervisor_command(job_dir)
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    if request.mode == protocol.MODE_TMUX:
        session = protocol.TMUX_SESSION_PREFIX + job_dir.name
        # -P -F: print the server's socket (TMUX_TMPDIR of the agent's environment decides it).
        tmux = ["tmux", "new-session", "-d", "-P", "-F", "#{socket_path}", "-s", session]
        tmux += ["-x", "200", "-y", "50"]
        try:
            done = subprocess.run(
                # The supervisor's own diagnostics go to supervisor.log; the pane shows the
                # job's output, which the supervisor echoes to it.
                [
                    *tmux,
                    "-c",
                    str(job_dir),
                    "{} 2>>{}".format(
                        " ".join(shlex.quote(a) for a in argv),
                        shlex.quote(str(job_dir / "supervisor.log")),
                    ),
                ],
                check=False,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=15,
            )
        except (OSError, subprocess.SubprocessError) as e:
            raise LaunchFailed(f"tmux could not start: {e}") from e
        printed = done.stdout.decode("utf-8", "replace").strip()
        if done.returncode != 0:
            out = (done.stderr.decode("utf-8", "replace").strip() + "\n" + printed).strip()
            raise LaunchFailed(f"tmux new-session failed: {out or done.returncode}")
        lines = printed.splitlines()
        return lines[-1] if lines and lines[-1].startswith("/") else None
    try:
        start_detached(argv, job_dir, env, job_dir / "supervisor.log")
    except OSError as e:
        raise LaunchFailed(f"the supervisor could not start: {e}") from e
    return None
