"""Jobs on one host: list, launch (idempotent across reconnects), stop, wait, remove, resolve."""

from __future__ import annotations

import asyncio
import builtins
import logging
import re
import shlex
import time
import uuid
from pathlib import PurePosixPath
from typing import Any

from remote_agent import protocol
from tfdash.errors import ConnectionFailed, RequestTimeout, UsageError
from tfdash.models import HostState, Job, JobSpec
from tfdash.transport.session import HostSession

logger = logging.getLogger(__name__)

# The agent waits up to 10 s for the supervisor to report the command's pid.
LAUNCH_TIMEOUT_S = 40.0
STATE_CHANGE_TRIES = 3
MIN_PREFIX_LENGTH = 4


class JobsService:
    """What the job table and the CLI do with jobs, over one HostSession."""

    def __init__(self, session: HostSession) -> None:
        self.session = session

    async def list(self) -> builtins.list[Job]:
        result = await self.session.call("jobs.list")
        return [Job.from_wire(job) for job in result["jobs"]]

    async def get(self, job_id: str) -> Job:
        return Job.from_wire(await self.session.call("jobs.get", {"id": job_id}))

    async def launch(self, spec: JobSpec) -> Job:
        """Launch ``spec``; a retry after a dropped link reuses the request id (no duplicate)."""
        request_id = new_request_id()
        result = await self._call_idempotent(
            "jobs.launch", spec.to_wire(request_id), timeout=LAUNCH_TIMEOUT_S
        )
        return Job.from_wire(result)

    async def stop(self, job_id: str, *, grace_s: float = 10.0) -> Job:
        """Ask the job to stop (SIGTERM, SIGKILL after ``grace_s``); returns at once."""
        params = {"id": job_id, "grace_s": grace_s, "request_id": new_request_id()}
        return Job.from_wire(await self._call_idempotent("jobs.stop", params, timeout=30.0))

    async def wait(self, job_id: str, *, timeout: float | None = None, poll_s: float = 0.5) -> Job:
        """Poll until the job has ended; RequestTimeout if it still runs after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            job = await self.get(job_id)
            if not job.state.is_active:
                return job
            if deadline is not None and loop.time() >= deadline:
                raise RequestTimeout(f"job {job_id} is still {job.state.value} after {timeout:g} s")
            await asyncio.sleep(poll_s)

    async def remove(self, job_id: str) -> None:
        """Delete an ended job's directory (the agent refuses a running job: -32002)."""
        await self.session.call("jobs.remove", {"id": job_id})

    async def resolve(self, ref: str) -> Job:
        """Find a job by exact id, else by unique name, else by unique id prefix (>= 4)."""
        jobs = await self.list()
        for job in jobs:
            if job.id == ref:
                return job
        named = [job for job in jobs if job.name == ref]
        if len(named) == 1:
            return named[0]
        prefixed = (
            [job for job in jobs if job.id.startswith(ref)] if len(ref) >= MIN_PREFIX_LENGTH else []
        )
        if len(prefixed) == 1:
            return prefixed[0]
        candidates = named + [job for job in prefixed if job not in named]
        host = self.session.name
        if candidates:
            listing = ", ".join(f"{job.id} ({job.name}, {job.state.value})" for job in candidates)
            raise UsageError(
                f"{ref!r} matches {len(candidates)} jobs on {host}: {listing}; give the full id"
            )
        raise UsageError(
            f"no job {ref!r} on {host} (give an id, a name or an id prefix of at least "
            f"{MIN_PREFIX_LENGTH} characters; `tfdash jobs` lists them)"
        )

    async def _call_idempotent(
        self, method: str, params: dict[str, Any], *, timeout: float
    ) -> dict[str, Any]:
        """Call a method that carries a request_id, retrying it while the session reconnects."""
        attempt = 1
        while True:
            try:
                result: dict[str, Any] = await self.session.call(method, params, timeout=timeout)
                return result
            except (ConnectionFailed, RequestTimeout) as exc:
                if attempt >= STATE_CHANGE_TRIES or not self._may_reconnect():
                    raise
                attempt += 1
                logger.info("retrying %s (%s) after: %s", method, params["request_id"], exc)

    def _may_reconnect(self) -> bool:
        session = self.session
        return session.reconnect and session.status.state not in (
            HostState.FAILED,
            HostState.DISCONNECTED,
        )


def new_request_id() -> str:
    """A client-made id that makes a state-changing request idempotent."""
    return "c-" + uuid.uuid4().hex


# Words that start a command line without naming what it runs.
_WRAPPER_WORD = re.compile(r"^(python[0-9.]*|pypy[0-9.]*|bash|sh|zsh|env|nohup|exec|time|nice)$")
_ASSIGNMENT_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_NOT_IN_NAMES = re.compile(r"[\x00-\x1f\x7f/]+")


def default_job_name(command: str) -> str:
    """A job name from a command: ``python -u train.py --lr 1`` → ``train``.

    The first word that is not an interpreter, ``env``, an option or ``VAR=x``, without its
    directory and ``.py``/``.sh``, made valid for the agent (no "/", "..", control chars).
    """
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    for word in words:
        base = PurePosixPath(word).name
        if _WRAPPER_WORD.match(base) or _ASSIGNMENT_WORD.match(word) or word.startswith("-"):
            continue
        name = base.removesuffix(".py").removesuffix(".sh")
        name = re.sub(r"\.{2,}", ".", _NOT_IN_NAMES.sub("-", name)).strip()
        name = name[: protocol.MAX_NAME_LENGTH]
        if name and name != ".":
            return name
    return "job"


def format_duration(seconds: float | None) -> str:
    """A short runtime for tables: "12.3s", "4m05s", "2h03m" ("-" for None)."""
    if seconds is None:
        return "-"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


def format_timestamp(epoch_s: float | None) -> str:
    """Local time as "YYYY-MM-DD HH:MM:SS" ("-" for None)."""
    if epoch_s is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch_s))
