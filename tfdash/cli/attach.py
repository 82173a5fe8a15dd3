"""`tfdash attach JOB [--host H]`: the dashboard's `a` from a shell.

A running tmux-mode job: this process becomes `ssh -t ... tmux attach` (or `tmux attach`
for the local host), so the terminal is the job's until the person detaches. Any other
job (nohup mode, or ended): its log is printed and followed, like `tfdash logs -f`.
"""

from __future__ import annotations

import argparse
import os
import sys

from tfdash.cli.connect import host_session
from tfdash.cli.jobs import print_logs
from tfdash.services.attach import AttachCommand, AttachKind, attach_command, attach_kind
from tfdash.services.jobs import JobsService


def add_attach_arguments(attach: argparse.ArgumentParser) -> None:
    attach.add_argument("job", help="id, name or id prefix")


async def attach_job(args: argparse.Namespace) -> int:
    """Attach to the job (exec, never returns) or follow its log (returns its exit code)."""
    async with host_session(args) as session:
        job = await JobsService(session).resolve(args.job)
        command = (
            await attach_command(session, job) if attach_kind(job) is AttachKind.TERMINAL else None
        )
    if command is not None:
        exec_attach(command)
    reason = "runs in nohup mode" if job.mode != "tmux" else f"is {job.state.value}"
    print(
        f"tfdash: job {job.id} {reason}: no tmux session to attach to; its log follows",
        file=sys.stderr,
    )
    follow = argparse.Namespace(**vars(args))
    follow.job, follow.follow, follow.tail, follow.since, follow.file = (
        job.id,
        True,
        None,
        None,
        None,
    )
    return await print_logs(follow)


def exec_attach(command: AttachCommand) -> None:
    """Replace this process by the attach (the session is closed first)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(command.argv[0], command.argv, command.env)
