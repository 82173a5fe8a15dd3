"""A bounded log pane that follows one job's output through a LogFollower worker."""

from __future__ import annotations

import re

from textual import work
from textual.widgets import Log

from tfdash.errors import AgentError, ConnectionFailed, TfdashError
from tfdash.models import HostState, HostStatus, Job
from tfdash.services.logs import LogFollower
from tfdash.transport.session import HostSession

# Frames the line that says output is missing (e.g. rotated away before it was read).
GAP_MARK = "⋯"

# CSI (colours, cursor moves), OSC (titles, links) and two-byte escape sequences.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]"
)


def terminal_line(line: str) -> str:
    """What a terminal would show for one line of program output.

    Progress bars (Keras, tqdm) redraw a line with ``\\r`` and ``\\b`` and colour it with
    escape sequences; a log file keeps every redraw. Replaying the carriage returns and
    backspaces leaves the final state of the line, and the escapes are dropped.
    """
    line = _ESCAPE_SEQUENCE.sub("", line)
    if "\r" not in line and "\b" not in line:
        return line
    cells: list[str] = []
    column = 0
    for char in line:
        if char == "\r":
            column = 0
        elif char == "\b":
            column = max(0, column - 1)
        else:
            if column < len(cells):
                cells[column] = char
            else:
                cells.append(char)
            column += 1
    return "".join(cells)


def split_log_text(text: str) -> list[str]:
    """Split a chunk of whole lines (each ending in a newline) into display lines."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [terminal_line(line) for line in lines]


class LogView(Log):
    """Shows the output of one job and keeps following it while it runs.

    ``follow()`` replaces what is shown: the previous follower worker is cancelled (the
    worker group is exclusive), so switching jobs never mixes two jobs' output. While the
    job's host is away the lines stay and the subtitle says so; the stream resumes from
    its cursor, so nothing is repeated.
    """

    def __init__(
        self,
        *,
        max_lines: int = 10_000,
        tail_bytes: int = 512 * 1024,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(max_lines=max_lines, id=id, classes=classes)
        self.tail_bytes = tail_bytes
        self.job_id: str | None = None
        self.host: str | None = None
        self._end_pending = False
        self._stream_note = "no job selected"
        self._link_note: str | None = None
        self.border_title = "Log"

    def append_text(self, text: str) -> None:
        """Add whole lines; keep following the end unless the person scrolled up."""
        following = self._end_pending or self.is_vertical_scroll_end
        # Log.write_lines drops empty strings: keep blank lines as a space.
        self.write_lines([line or " " for line in split_log_text(text)], scroll_end=False)
        if following and not self._end_pending:
            # Scroll once the new size is laid out; scrolling now would stop short of it.
            self._end_pending = True
            self.call_after_refresh(self._scroll_to_end)

    def _scroll_to_end(self) -> None:
        self._end_pending = False
        # force: the scrollbar that allows scrolling may appear only in the next layout.
        self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    def follow(self, session: HostSession | None, job: Job | None) -> None:
        """Show `job`'s output (the last `tail_bytes` of it) and follow it; None clears."""
        followed = (session.name, job.id) if session is not None and job is not None else None
        if followed is not None and followed == (self.host, self.job_id):
            return
        self.job_id = job.id if job is not None else None
        self.clear()
        if session is None or job is None:
            self.workers.cancel_group(self, "log-follow")
            self.host = None
            self.border_title = "Log"
            self._link_note = None
            self._set_stream_note("no job selected")
            return
        self.host = session.name
        self.border_title = f"Log · {job.name}"
        self._set_stream_note("following" if job.state.is_active else job.state.value)
        self.show_host_status(session.status)
        self._follow(session, job.id)

    def show_host_status(self, status: HostStatus) -> None:
        """Say in the subtitle when the followed job's host is away (the lines stay)."""
        if status.name != self.host:
            return
        if status.state is HostState.CONNECTED:
            self._link_note = None
        elif status.state is HostState.FAILED:
            self._link_note = "host failed: last lines shown"
        elif status.state is not HostState.DISCONNECTED:
            self._link_note = "reconnecting…"
        self._set_stream_note(self._stream_note)

    def _set_stream_note(self, note: str) -> None:
        """What the stream says ("following", "end of log"); a link problem is shown first."""
        self._stream_note = note
        self.border_subtitle = self._link_note or note

    @work(exclusive=True, group="log-follow", exit_on_error=False)
    async def _follow(self, session: HostSession, job_id: str) -> None:
        follower = LogFollower(session, job_id, tail_bytes=self.tail_bytes, follow=True)
        try:
            async for chunk in follower:
                if self.job_id != job_id:
                    return
                if chunk.reconnected:  # the stream resumed from its cursor
                    self._link_note = None
                    self._set_stream_note(self._stream_note)
                if chunk.gap:
                    self.append_text(f"{GAP_MARK} {chunk.gap} {GAP_MARK}\n")
                if chunk.text:
                    self.append_text(chunk.text)
                if chunk.eof:
                    state = chunk.job_state.value if chunk.job_state else "ended"
                    self._set_stream_note(f"{state} · end of log")
        except TfdashError as error:
            if isinstance(error, AgentError) and error.is_not_found:
                self._set_stream_note("job removed")
                return
            if not isinstance(error, ConnectionFailed):  # the hosts pane shows those
                self.notify(error.message, title=error.title, severity="error", markup=False)
            self._set_stream_note("log unavailable")
