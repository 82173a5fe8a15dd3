"""The hosts pane: one row per host with its state, its agent or its trouble, and a cursor.

The selected host is the one launches go to and host actions (trust, retry) apply to.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import ProgressBar, Static

from tfdash.errors import ConnectionFailed, HostKeyChanged, HostKeyUnknown
from tfdash.models import HostState, HostStatus

_STATE_ICONS = {
    HostState.DISCONNECTED: "○",
    HostState.CONNECTING: "◌",
    HostState.CONNECTED: "●",
    HostState.RECONNECTING: "◌",
    HostState.FAILED: "✗",
}
# States in which the agent may be uploading (the bootstrap runs while connecting).
_UPLOADING_STATES = (HostState.CONNECTING, HostState.RECONNECTING)


def describe_state(status: HostStatus, now: float, failure: ConnectionFailed | None = None) -> str:
    """The one-line state a person reads: "reconnecting in 3 s (attempt 2)" etc."""
    if status.state is HostState.RECONNECTING:
        text = "reconnecting"
        if status.retry_at is not None:
            text += f" in {max(0, round(status.retry_at - now))} s"
        if status.attempt:
            text += f" (attempt {status.attempt})"
        return text
    if status.state is HostState.FAILED:  # the kind, if it has a name; details say the rest
        title = failure.title if failure is not None else ConnectionFailed.title
        if title == ConnectionFailed.title:
            return "failed"
        return f"failed: {title if title.isupper() else title[0].lower() + title[1:]}"
    if status.state is HostState.CONNECTING:
        return "connecting…"
    return status.state.value


def describe_details(
    status: HostStatus, now: float, failure: ConnectionFailed | None = None
) -> list[str]:
    """The lines under the state: the agent's facts, or why and how stale the data is."""
    lines: list[str] = []
    info = status.info
    if status.state is HostState.CONNECTED and info is not None:
        tmux = f"tmux {info.capabilities.tmux}" if info.capabilities.tmux else "no tmux"
        lines.append(f"agent {info.agent_version}")
        lines.append(f"Python {info.python_version}")
        lines.append(tmux)
        return lines
    if status.state is HostState.RECONNECTING and status.message:
        lines.append(status.message)
    if isinstance(failure, HostKeyUnknown):
        lines += [f"{failure.key_type} {failure.fingerprint}", "t: review the key, trust it"]
    elif isinstance(failure, HostKeyChanged):
        lines += ["it differs from known_hosts: maybe an attack", "t: details"]
    elif status.state is HostState.FAILED:
        lines += [status.message, "r: retry once fixed"] if status.message else []
    if status.state is not HostState.CONNECTED and status.last_data_at is not None:
        lines.append(f"data {max(0, round(now - status.last_data_at))} s old")
    return lines


class HostRow(Vertical):
    """One host; its CSS class (`-connected`, `-failed`, …) colours the state line."""

    def __init__(self, status: HostStatus) -> None:
        super().__init__(classes="host-row")
        self.status = status
        self.failure: ConnectionFailed | None = None
        # Kept, not queried: a status may arrive while the app tears its widgets down.
        self._icon = Static(classes="host-icon", markup=False)
        self._state = Static(classes="host-state", markup=False)
        self._details = Static(classes="host-details", markup=False)
        self._upload = Horizontal(classes="host-upload")
        self._progress = ProgressBar(total=1, show_eta=False)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="host-heading"):
            yield self._icon
            yield Static(self.status.name, classes="host-name", markup=False)
            yield self._state
        yield self._details
        with self._upload:
            yield Static("agent upload", classes="host-upload-label", markup=False)
            yield self._progress

    def on_mount(self) -> None:
        self._upload.display = False
        self._render_status()

    def show(self, status: HostStatus, failure: ConnectionFailed | None = None) -> None:
        """Display `status` (called on every status change and by the countdown tick)."""
        self.status = status
        self.failure = failure
        if self.is_mounted:  # before that, on_mount shows the latest status
            self._render_status()

    def show_upload(self, sent: int, total: int) -> None:
        """The agent upload's progress, shown until the host leaves the connecting states."""
        if not self.is_mounted or self.status.state not in _UPLOADING_STATES:
            return
        self._upload.display = True
        self._progress.update(total=max(total, 1), progress=sent)

    def _render_status(self) -> None:
        status = self.status
        for state in HostState:
            self.set_class(state is status.state, f"-{state.value}")
        now = time.time()
        self._icon.update(_STATE_ICONS[status.state])
        self._state.update(describe_state(status, now, self.failure))
        details = describe_details(status, now, self.failure)
        self._details.update("\n".join(details))
        self._details.display = bool(details)
        if status.state not in _UPLOADING_STATES:
            self._upload.display = False

    @property
    def uploading(self) -> bool:
        """Whether the row shows an agent upload in progress."""
        return self.is_mounted and bool(self._upload.display)

    @property
    def is_ticking(self) -> bool:
        """Whether the row shows a countdown or a data age that changes every second."""
        return self.status.state in (HostState.RECONNECTING, HostState.FAILED) or (
            self.status.state is not HostState.CONNECTED and self.status.last_data_at is not None
        )


class HostList(VerticalScroll):
    """The hosts pane; the screen sets statuses with ``show_status``; ↑/↓ or a click select."""

    BINDINGS = [
        Binding("up,k", "move(-1)", "Previous host", show=False, id="hosts.previous"),
        Binding("down,j", "move(1)", "Next host", show=False, id="hosts.next"),
    ]

    @dataclass
    class HostSelected(Message):
        """The person selected another host."""

        name: str

    def __init__(self, statuses: Iterable[HostStatus], *, id: str | None = None) -> None:
        super().__init__(id=id)
        # Rows exist from the start, so a status that arrives before compose finds its row.
        self._rows = {status.name: HostRow(status) for status in statuses}
        self.selected: str | None = next(iter(self._rows), None)
        self.border_title = "Hosts"

    def compose(self) -> ComposeResult:
        yield from self._rows.values()

    def on_mount(self) -> None:
        self._mark_selected()
        self.set_interval(1.0, self._tick)

    def show_status(self, status: HostStatus, failure: ConnectionFailed | None = None) -> None:
        """Show a host's new status, adding a row for a host seen for the first time."""
        row = self._rows.get(status.name)
        if row is None:
            row = HostRow(status)
            row.failure = failure
            self._rows[status.name] = row
            self.selected = self.selected or status.name
            if self.is_mounted:
                self.mount(row)
                self._mark_selected()
        else:
            row.show(status, failure)

    def show_upload(self, host: str, sent: int, total: int) -> None:
        """Progress of the agent upload to `host`."""
        if (row := self._rows.get(host)) is not None:
            row.show_upload(sent, total)

    def status_of(self, name: str) -> HostStatus | None:
        """The status shown for host `name`, if it is listed."""
        row = self._rows.get(name)
        return row.status if row is not None else None

    def row(self, name: str) -> HostRow | None:
        return self._rows.get(name)

    def select(self, name: str) -> None:
        """Move the cursor to host `name` and say so (HostSelected)."""
        if name not in self._rows or name == self.selected:
            return
        self.selected = name
        self._mark_selected()
        self._rows[name].scroll_visible()
        self.post_message(self.HostSelected(name))

    def action_move(self, step: int) -> None:
        names = list(self._rows)
        if not names:
            return
        index = names.index(self.selected) if self.selected in names else 0
        self.select(names[max(0, min(len(names) - 1, index + step))])

    def on_click(self, event: events.Click) -> None:
        for node in event.widget.ancestors_with_self if event.widget is not None else []:
            if isinstance(node, HostRow):
                self.select(node.status.name)
                return

    def _mark_selected(self) -> None:
        for name, row in self._rows.items():
            row.set_class(name == self.selected, "-selected")

    def _tick(self) -> None:
        for row in self._rows.values():
            if row.is_ticking and row.is_mounted:
                row.show(row.status, row.failure)
