"""What the Pilot tests read off the dashboard, and how they type into it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

from tfdash.app import TfdashApp
from tfdash.widgets.host_list import HostList, HostRow
from tfdash.widgets.job_table import JobTable, row_key
from tfdash.widgets.log_view import LogView

SIZE = (120, 40)

WaitFor = Callable[..., Awaitable[None]]


def host_row(app: TfdashApp, host: str = "local") -> HostRow | None:
    """The hosts pane's row of `host`, None until the pane exists."""
    for hosts in app.main_screen.query(HostList):
        return hosts.row(host)
    return None


def host_state_text(app: TfdashApp, host: str = "local", part: str = ".host-state") -> str:
    """What the hosts pane says about `host`'s connection ("" until the pane exists).

    `part` ".host-details" gives the lines under the state instead.
    """
    row = host_row(app, host)
    if row is None or not row.is_mounted:
        return ""
    return str(row.query_one(part, Static).render())


def job_table(app: TfdashApp) -> JobTable | None:
    """The dashboard's jobs table, None until the dashboard has composed it."""
    for table in app.main_screen.query(JobTable):
        return table
    return None


def table_cell(app: TfdashApp, job_id: str, column: str, host: str = "local") -> str | None:
    """The text of a cell of the jobs table, or None while the job has no row."""
    table = job_table(app)
    if table is None or table.job(host, job_id) is None:
        return None
    return table.get_cell(row_key(host, job_id), column).plain


def job_ids_in_table(app: TfdashApp) -> list[str]:
    table = job_table(app)
    if table is None:
        return []
    return [str(row.key.value).split("/", 1)[1] for row in table.ordered_rows]


def log_lines(app: TfdashApp, selector: str = "#log") -> list[str]:
    return list(app.screen.query_one(selector, LogView).lines)


async def wait_connected(pilot: Pilot[Any], wait_for: WaitFor, host: str = "local") -> None:
    app = pilot.app
    assert isinstance(app, TfdashApp)
    await wait_for(pilot, lambda: host_state_text(app, host) == "connected", f"{host} to connect")


async def type_into(pilot: Pilot[Any], selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector).focus()
    await pilot.pause()
    await pilot.press(*text)
