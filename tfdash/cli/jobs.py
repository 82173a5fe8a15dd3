"""The scriptable job subcommands: jobs, run, stop, logs, rm (on --host, default local)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections import deque
from collections.abc import Sequence

from tfdash.cli.connect import host_session
from tfdash.config import LOCAL_HOST, load_config
from tfdash.errors import UsageError
from tfdash.models import Job, JobSpec, LaunchMode, LogCursor
from tfdash.services.jobs import JobsService, default_job_name, format_duration, format_timestamp
from tfdash.services.logs import LogFollower
from tfdash.transport.session import HostSession


async def launch_spec(args: argparse.Namespace, spec: JobSpec) -> Job:
    if spec.gpu_idle_minutes is None:  # config.toml's [alerts] gpu_idle_minutes
        spec = dataclasses.replace(spec, gpu_idle_minutes=load_config().alerts.gpu_idle_minutes)
    async with host_session(args) as session:
        return await JobsService(session).launch(spec)


async def stop_and_wait(args: argparse.Namespace, job_id: str, grace_s: float) -> Job:
    async with host_session(args) as session:
        service = JobsService(session)
        job = await service.get(job_id)
        if not job.state.is_active:
            return job
        await service.stop(job_id, grace_s=grace_s)
        return await service.wait(job_id, timeout=grace_s + 10.0)


async def list_jobs(args: argparse.Namespace) -> int:
    async with host_session(args) as session:
        jobs = await JobsService(session).list()
    if args.json:
        print(json.dumps([job.to_json() for job in jobs], indent=2))
    else:
        print(format_job_table(jobs))
    return 0


async def launch_job(args: argparse.Namespace) -> int:
    words = list(args.command)
    if words and words[0] == "--":
        words.pop(0)
    if not words:
        raise UsageError("give the command after --, e.g. tfdash run -- python train.py")
    command = " ".join(words)
    spec = JobSpec(
        name=args.name or default_job_name(command),
        command=command,
        cwd=job_cwd(args),
        env=parse_env(args.env),
        mode=args.mode or LaunchMode.AUTO,
        gpus=args.gpus,
        logdir=args.logdir,
        export=export_options(args),
    )
    job = await launch_spec(args, spec)
    print(json.dumps(job.to_json(), indent=2) if args.json else job.id)
    return 0


def export_options(args: argparse.Namespace) -> dict[str, str] | None:
    """The job spec's ``export`` from `--export-python/-builder/-base/-name` (None: none given)."""
    options = {
        key: str(value)
        for key, value in (
            ("python", args.export_python),
            ("builder", args.export_builder),
            ("base", args.export_base),
            ("name", args.export_name),
        )
        if value is not None
    }
    return options or None


def job_cwd(args: argparse.Namespace) -> str | None:
    """Locally: --cwd made absolute, or the current directory. Remotely: --cwd as given
    (relative to the remote $HOME), or None, which the agent reads as the remote $HOME."""
    if getattr(args, "host", LOCAL_HOST) != LOCAL_HOST:
        return str(args.cwd) if args.cwd else None
    return os.path.abspath(args.cwd or os.getcwd())


async def stop_job(args: argparse.Namespace) -> int:
    async with host_session(args) as session:
        service = JobsService(session)
        job = await service.resolve(args.job)
        job = await service.stop(job.id, grace_s=args.grace)
        if args.no_wait:
            print(f"{job.id} {job.state.value} (stop requested)")
            return 0
        job = await service.wait(job.id, timeout=args.grace + 10.0)
    print(f"{job.id} {describe_end(job)}")
    return 0


async def print_logs(args: argparse.Namespace) -> int:
    """`tfdash logs`: the log's exact text as it comes; gaps as notes on stderr."""
    if args.tail is not None and args.tail < 0:
        raise UsageError("--tail needs a number of lines >= 0")
    async with host_session(args) as session:
        job = await JobsService(session).resolve(args.job)
        cursor = None
        if args.tail is not None and args.since is not None:
            cursor = await print_last_lines_since(session, job.id, args)
            if not args.follow:
                return 0
        follower = LogFollower(
            session,
            job.id,
            file=args.file,
            cursor=cursor,
            tail_lines=args.tail,
            since=args.since,
            follow=args.follow,
            partial=True,
        )
        try:
            async for chunk in follower:
                if chunk.gap:
                    note_gap(job.id, chunk.gap)
                write_out(chunk.text)
        except BrokenPipeError:
            # The reader went away (`tfdash logs x | head`): end quietly, and close the
            # session while the event loop still runs.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


async def print_last_lines_since(
    session: HostSession, job_id: str, args: argparse.Namespace
) -> LogCursor | None:
    """`--since T --tail N`: the last N of the lines written since T; the cursor after."""
    catch_up = LogFollower(
        session, job_id, file=args.file, since=args.since, follow=False, partial=True
    )
    last_lines: deque[str] = deque(maxlen=args.tail)
    unfinished = ""
    async for chunk in catch_up:
        if chunk.gap:
            note_gap(job_id, chunk.gap)
        lines = split_lines(unfinished + chunk.text)
        unfinished = lines.pop() if lines and not lines[-1].endswith("\n") else ""
        last_lines.extend(lines)
    if unfinished and args.tail:
        last_lines.append(unfinished)
    write_out("".join(last_lines))
    return catch_up.cursor


def note_gap(job_id: str, reason: str) -> None:
    """One line on stderr, so the text on stdout stays exactly the log's."""
    print(f"tfdash: {job_id}: lines missing: {reason}", file=sys.stderr, flush=True)


async def remove_job(args: argparse.Namespace) -> int:
    async with host_session(args) as session:
        service = JobsService(session)
        job = await service.resolve(args.job)
        await service.remove(job.id)
    print(f"removed {job.id}")
    return 0


def parse_env(pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--env wants KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` with their "\\n" (split on "\\n" only: "\\r" belongs to a line)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


def write_out(text: str) -> None:
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()


def describe_end(job: Job) -> str:
    return f"{job.state.value} (exit {dash_if_none(job.exit_code)})"


def dash_if_none(value: object) -> str:
    return "-" if value is None else str(value)


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as text, columns padded to their widest cell."""
    widths = [max(len(cell) for cell in column) for column in zip(*rows, strict=True)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def format_job_table(jobs: list[Job]) -> str:
    """The `tfdash jobs` table."""
    now = time.time()
    rows = [("ID", "NAME", "STATE", "MODE", "PID", "EXIT", "STARTED", "RUNTIME")]
    rows += [
        (
            job.id,
            job.name,
            job.state.value,
            job.mode,
            dash_if_none(job.pid),
            dash_if_none(job.exit_code),
            format_timestamp(job.started_at),
            format_duration(job.runtime(now)),
        )
        for job in jobs
    ]
    return format_table(rows)
