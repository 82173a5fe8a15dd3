"""The hosts pane: one row per host with its connection state and the agent's facts."""

from __future__ import annotations

import time
from collections.abc import Iterable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from tfdash.models import HostState, HostStatus

_STATE_ICONS = {
    HostState.DISCONNECTED: "○",
    HostState.CONNECTING: "◌",
    HostState.CONNECTED: "●",
    HostState.RECONNECTING: "◌",
    HostState.FAILED: "✗",
}


def describe_state(status: HostStatus, now: float) -> str:
    """The one-line state a person reads: "reconnecting in 3 s (attempt 2)" etc."""
    if status.state is HostState.RECONNECTING:
        text = "reconnecting"
        if status.retry_at is not None:
            text += f" in {max(0, round(status.retry_at - now))} s"
        if status.attempt:
            text += f" (attempt {status.attempt})"
        return text
    if status.state is HostState.FAILED:
        return f"failed: {status.message}" if status.message else "failed"
    if status.state is HostState.CONNECTING:
        return "connecting…"
    return status.state.value


def describe_details(status: HostStatus, now: float) -> list[str]:
    """The lines under the state: the agent's facts, or why and how stale the data is."""
    lines: list[str] = []
    info = status.info
    if status.state is HostState.CONNECTED and info is not None:
        tmux = f"tmux {info.capabilities.tmux}" if info.capabilities.tmux else "no tmux"
        lines.append(f"agent {info.agent_version}")
        lines.append(f"Python {info.python_version} · {tmux}")
        return lines
    if status.state is HostState.RECONNECTING and status.message:
        lines.append(status.message)
    if status.state is not HostState.CONNECTED and status.last_data_at is not None:
        lines.append(f"data {max(0, round(now - status.last_data_at))} s old")
    return lines


class HostRow(Vertical):
    """One host; its CSS class (`-connected`, `-failed`, …) colours the state line."""

    def __init__(self, status: HostStatus) -> None:
        super().__init__(classes="host-row")
        self.status = status

    def compose(self) -> ComposeResult:
        with Horizontal(classes="host-heading"):
            yield Static(classes="host-icon", markup=False)
            yield Static(self.status.name, classes="host-name", markup=False)
            yield Static(classes="host-state", markup=False)
        yield Static(classes="host-details", markup=False)

    def on_mount(self) -> None:
        self._render_status()

    def show(self, status: HostStatus) -> None:
        """Display `status` (called on every status change and by the countdown tick)."""
        self.status = status
        if self.is_mounted:  # before that, on_mount shows the latest status
            self._render_status()

    def _render_status(self) -> None:
        status = self.status
        for state in HostState:
            self.set_class(state is status.state, f"-{state.value}")
        now = time.time()
        self.query_one(".host-icon", Static).update(_STATE_ICONS[status.state])
        self.query_one(".host-state", Static).update(describe_state(status, now))
        details = describe_details(status, now)
        details_widget = self.query_one(".host-details", Static)
        details_widget.update("\n".join(details))
        details_widget.display = bool(details)

    @property
    def is_ticking(self) -> bool:
        """Whether the row shows a countdown or a data age that changes every second."""
        return self.status.state in (HostState.RECONNECTING, HostState.FAILED) or (
            self.status.state is not HostState.CONNECTED and self.status.last_data_at is not None
        )


class HostList(VerticalScroll):
    """The hosts pane; the App sets statuses with ``show_status``."""

    def __init__(self, statuses: Iterable[HostStatus], *, id: str | None = None) -> None:
        super().__init__(id=id)
        # Rows exist from the start, so a status that arrives before compose finds its row.
        self._rows = {status.name: HostRow(status) for status in statuses}
        self.border_title = "Hosts"

    def compose(self) -> ComposeResult:
        yield from self._rows.values()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def show_status(self, status: HostStatus) -> None:
        """Show a host's new status, adding a row for a host seen for the first time."""
        row = self._rows.get(status.name)
        if row is None:
            row = HostRow(status)
            self._rows[status.name] = row
            if self.is_mounted:
                self.mount(row)
        else:
            row.show(status)

    def status_of(self, name: str) -> HostStatus | None:
        """The status shown for host `name`, if it is listed."""
        row = self._rows.get(name)
        return row.status if row is not None else None

    def _tick(self) -> None:
        for row in self._rows.values():
            if row.is_ticking and row.is_mounted:
                row.show(row.status)
