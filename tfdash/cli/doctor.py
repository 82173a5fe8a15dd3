"""`tfdash doctor HOST`: SSH and host key, agent bootstrap, clock skew, then the agent's checks.

Each check passes (✔), fails (✘, with a one-line fix) or does not apply (a dash); docs/doctor.md
says what each one does. Exit 0 when none failed, 1 when one did, 2 when the host cannot
be reached at all.
"""

from __future__ import annotations

import argparse
import json
import sys

from tfdash.cli.connect import ask_passphrase, cli_session
from tfdash.config import LOCAL_HOST, load_config
from tfdash.errors import ConnectionFailed
from tfdash.services.doctor import (
    DEFAULT_TIMEOUT_S,
    DoctorCheck,
    agent_failed,
    agent_passed,
    clock_check,
    host_checks,
    login_check,
    no_ssh_check,
)

MARKS = {True: "✔", False: "✘", None: "\u2013"}  # en dash


def add_doctor_arguments(doctor: argparse.ArgumentParser) -> None:
    doctor.add_argument("host", nargs="?", default=LOCAL_HOST, help="the host (default: local)")
    doctor.add_argument("--export-dir", help="where exports go, for the disk check (default: ~)")
    doctor.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help="seconds for TensorFlow's import and matmul",
    )
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")


async def run_doctor(args: argparse.Namespace) -> int:
    """Run every check on ``args.host``, print them, and exit by the worst result."""
    name: str = args.host
    checks: list[DoctorCheck] = []
    reachable = True
    if name == LOCAL_HOST:
        checks.append(no_ssh_check())
    else:
        prompt = ask_passphrase if sys.stdin.isatty() else None
        ssh = await login_check(load_config().host(name), prompt)
        checks.append(ssh)
        reachable = ssh.ok is True
    if reachable:
        checks += await agent_checks(name, args)
    print_checks(name, checks, args.json)
    if not reachable:
        return 2
    return 1 if any(entry.ok is False for entry in checks) else 0


async def agent_checks(name: str, args: argparse.Namespace) -> list[DoctorCheck]:
    """Bootstrap the agent and say hello, compare clocks, then run ``doctor.run``."""
    session = cli_session(name, args)
    try:
        try:
            await session.start()
        except ConnectionFailed as failure:
            return [agent_failed(name, failure)]
        info = session.info
        assert info is not None  # a started session said hello
        checks = [agent_passed(info), await clock_check(session)]
        checks += await host_checks(session, args.timeout, args.export_dir)
        return checks
    finally:
        await session.close()


def print_checks(name: str, checks: list[DoctorCheck], as_json: bool) -> None:
    if as_json:
        report = {"host": name, "checks": [entry.to_json() for entry in checks]}
        print(json.dumps(report, indent=2))
        return
    for entry in checks:
        print(f"{MARKS[entry.ok]} {entry.name}: {entry.detail}")
        if entry.ok is False and entry.fix:
            print(f"  fix: {entry.fix}")
