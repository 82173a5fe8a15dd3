"""The `tfdash` command: the dashboard, the demo, job subcommands and host management.

Exit codes: 0 ok, 1 an operation failed, 2 a usage, configuration or connection error,
130 Ctrl+C. The subcommands use the same services as the UI and never import Textual
(only `tfdash` and `tfdash demo` do, lazily).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from tfdash import __version__
from tfdash.cli.alerts import add_alerts_arguments, print_alerts
from tfdash.cli.attach import add_attach_arguments, attach_job
from tfdash.cli.dashboard import run_dashboard, run_demo
from tfdash.cli.doctor import add_doctor_arguments, run_doctor
from tfdash.cli.export import add_export_arguments, export_model
from tfdash.cli.hosts import check_host, list_hosts, trust_host
from tfdash.cli.jobs import list_jobs, print_logs, remove_job, stop_job
from tfdash.cli.scalars import add_scalars_arguments, print_scalars
from tfdash.cli.templates import list_templates, run_command_or_template
from tfdash.config import LOCAL_HOST
from tfdash.errors import TfdashError
from tfdash.models import LaunchMode
from tfdash.services.log_since import SINCE_FORMS, parse_since

HOST_HELP = f'the host: "{LOCAL_HOST}" (default), a [hosts.NAME] of config.toml, or an ssh alias'


def main(argv: list[str] | None = None) -> int:
    """Run one command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except TfdashError as exc:
        print(f"tfdash: {exc.title}: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of our stdout went away (`tfdash logs x | head`): end quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def run_async(
    command: Callable[[argparse.Namespace], Coroutine[Any, Any, int]],
) -> Callable[[argparse.Namespace], int]:
    """A handler that runs the async ``command`` in a fresh event loop."""
    return lambda args: asyncio.run(command(args))


def print_keys(args: argparse.Namespace) -> int:
    """`tfdash keys` (imported here: the reference needs Textual, other commands do not)."""
    from tfdash.cli.keys import print_keys as print_reference

    return print_reference(args)


class HostOption(argparse.Action):
    """`--host NAME`, also noting that it was given (`tfdash run TEMPLATE` checks it)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        namespace.host_given = True


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfdash", description="A terminal dashboard for TensorFlow training jobs."
    )
    parser.add_argument("--version", action="version", version=f"tfdash {__version__}")
    parser.add_argument("--home", help="TFDASH_HOME of the local agent (default ~/.tfdash)")
    parser.add_argument("--host", default=LOCAL_HOST, action=HostOption, help=HOST_HELP)
    parser.set_defaults(handler=run_dashboard)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(
        name: str, handler: Callable[..., Any], help_text: str, *, on_host: bool = False
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--home", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        if on_host:  # --host before or after the command name
            sub.add_argument("--host", default=argparse.SUPPRESS, action=HostOption, help=HOST_HELP)
        sub.set_defaults(handler=handler)
        return sub

    command("keys", print_keys, "Print the dashboard's keyboard reference (docs/keys.md).")

    demo = command("demo", run_demo, "Train the Keras example and watch it in the dashboard.")
    demo.add_argument("--epochs", type=int, default=30)
    demo.add_argument("--keep", action="store_true", help="leave the job running on exit")

    jobs = command("jobs", run_async(list_jobs), "List the jobs.", on_host=True)
    jobs.add_argument("--json", action="store_true", help="print a JSON list of jobs")

    run = command(
        "run",
        run_async(run_command_or_template),
        "Launch a job: tfdash run -- CMD, or tfdash run TEMPLATE (docs/templates.md)",
        on_host=True,
    )
    run.add_argument("--name", help="a label (default: from the command)")
    modes = run.add_mutually_exclusive_group()
    modes.add_argument("--tmux", dest="mode", action="store_const", const=LaunchMode.TMUX)
    modes.add_argument("--nohup", dest="mode", action="store_const", const=LaunchMode.NOHUP)
    run.add_argument(
        "--cwd", help="working directory (default: the current one; on an SSH host, $HOME)"
    )
    run.add_argument("--env", action="append", default=[], metavar="K=V")
    run.add_argument("--gpus", help='CUDA_VISIBLE_DEVICES for the job, e.g. "0,1"')
    run.add_argument(
        "--logdir", help="its TensorBoard logdir, relative to --cwd (default on the host: logs)"
    )
    add_export_options(run)
    run.add_argument("--json", action="store_true", help="print the job as JSON")
    run.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        help="-- then the command, or the name of a template of tfdash.toml",
    )

    templates = command(
        "templates", list_templates, "List the job templates of the nearest tfdash.toml."
    )
    templates.add_argument("--json", action="store_true", help="print the templates as JSON")

    stop = command("stop", run_async(stop_job), "Stop a job.", on_host=True)
    stop.add_argument("job", help="id, name or id prefix")
    stop.add_argument("--grace", type=float, default=10.0, help="seconds before SIGKILL")
    stop.add_argument("--no-wait", action="store_true", help="do not wait for the job to end")

    logs = command("logs", run_async(print_logs), "Print a job's output.", on_host=True)
    logs.add_argument("job", help="id, name or id prefix")
    logs.add_argument("-f", "--follow", action="store_true", help="follow until the job ends")
    logs.add_argument(
        "--tail", type=int, metavar="N", help="only the last N lines (default: the whole log)"
    )
    logs.add_argument(
        "--since", type=since_time, metavar="T", help=f"only lines written since T: {SINCE_FORMS}"
    )
    logs.add_argument("--file", metavar="PATH", help="another log of the job, relative to its cwd")

    scalars = command(
        "scalars", run_async(print_scalars), "Print a job's TensorBoard scalars.", on_host=True
    )
    add_scalars_arguments(scalars)

    export = command(
        "export", run_async(export_model), "Export a job's model as a SavedModel.", on_host=True
    )
    add_export_arguments(export)

    attach = command(
        "attach",
        run_async(attach_job),
        "Attach the terminal to a tmux job's session (else follow its log).",
        on_host=True,
    )
    add_attach_arguments(attach)

    alerts = command(
        "alerts",
        run_async(print_alerts),
        "Print the alerts of the jobs not shown yet (--all: every one).",
        on_host=True,
    )
    add_alerts_arguments(alerts)

    remove = command("rm", run_async(remove_job), "Remove an ended job.", on_host=True)
    remove.add_argument("job", help="id, name or id prefix")

    add_hosts_commands(command("hosts", run_async(list_hosts), "List the hosts."))
    add_doctor_arguments(command("doctor", run_async(run_doctor), "Check a host: SSH to GPUs."))
    return parser


def add_export_options(run: argparse.ArgumentParser) -> None:
    """`tfdash run --export-*`: how `tfdash export` exports the job's model later."""
    run.add_argument(
        "--export-builder",
        metavar="MODULE:FUNCTION",
        help="returns the Keras model, for exports from a tf.train.Checkpoint",
    )
    run.add_argument(
        "--export-python", metavar="PY", help="the Python (with TensorFlow) that exports"
    )
    run.add_argument(
        "--export-base", metavar="DIR", help="where exports go (default: <cwd>/models)"
    )
    run.add_argument("--export-name", metavar="NAME", help="model name (default: the job's)")


def since_time(text: str) -> float:
    """argparse type of --since: epoch seconds, or an error that lists the accepted forms."""
    try:
        return parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_hosts_commands(hosts: argparse.ArgumentParser) -> None:
    """`tfdash hosts [--json]`, `tfdash hosts check NAME`, `tfdash hosts trust NAME`."""
    hosts.add_argument("--json", action="store_true", help="print the hosts as JSON")
    actions = hosts.add_subparsers(title="host commands", metavar="ACTION")
    check = actions.add_parser("check", help="connect, bootstrap the agent and print its handshake")
    check.add_argument("name", help='a host name, an ssh alias, or "local"')
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(handler=run_async(check_host))
    trust = actions.add_parser(
        "trust", help="show the host's key fingerprint and record it in known_hosts"
    )
    trust.add_argument("name", help="a host name or an ssh alias")
    trust.add_argument(
        "--yes", action="store_true", help="trust without asking (check the fingerprint first)"
    )
    trust.set_defaults(handler=run_async(trust_host))
