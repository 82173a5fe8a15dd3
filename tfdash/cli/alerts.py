"""`tfdash alerts [--host H] [--all] [--json]`: the alerts of a host's jobs (docs/alerts.md).

Without ``--all`` it prints the alerts not shown yet (by this command or the dashboard)
and marks them shown; with ``--all`` every alert the host keeps, marking nothing.
"""

from __future__ import annotations

import argparse
import json
import time

from tfdash.cli.connect import host_session
from tfdash.models import Alert
from tfdash.services.alerts import AlertsService


def add_alerts_arguments(alerts: argparse.ArgumentParser) -> None:
    alerts.add_argument(
        "--all", action="store_true", help="every alert, not only those not shown yet"
    )
    alerts.add_argument("--json", action="store_true", help="print a JSON list of alerts")


def format_alert(alert: Alert) -> str:
    """One line: local time, severity, job, kind and message."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(alert.time))
    return f"{when}  {alert.severity:<7}  {alert.job}  {alert.kind:<9}  {alert.message}"


async def print_alerts(args: argparse.Namespace) -> int:
    """Print the host's new (or all) alerts, oldest first; exit 0."""
    async with host_session(args) as session:
        service = AlertsService(session)
        found = await (service.list_all() if args.all else service.fetch_new())
        if args.json:
            print(json.dumps([alert.to_json() for alert in found], indent=2))
        else:
            for alert in found:
                print(format_alert(alert))
            if not found:
                print("no alerts" if args.all else "no new alerts")
        if not args.all:
            service.mark_delivered()
    return 0
