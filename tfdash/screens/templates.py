"""The templates of the project's tfdash.toml (found from the dashboard's working
directory, as `tfdash run TEMPLATE` finds it); enter launches the highlighted one."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from tfdash.errors import ConfigError
from tfdash.messages import LaunchRequested
from tfdash.models import Job
from tfdash.screens.relaunch import Relaunch, RelaunchScreen, stop_then_launch
from tfdash.templates import (
    TEMPLATES_FILE,
    JobTemplate,
    TemplateFile,
    find_templates_file,
    load_templates,
    no_templates_message,
)
from tfdash.transport.manager import HostManager

COLUMNS = ("name", "host", "command", "mode", "last job")
EXAMPLE = '[jobs.train]\nhost = "local"\ncommand = "python train.py --epochs 10"'
# Seconds between two refreshes of the "last job" column from the dashboard's job lists.
REFRESH_S = 1.0


def newest_job(jobs: list[Job], name: str) -> Job | None:
    """The most recently made job called ``name``."""
    named = [job for job in jobs if job.name == name]
    return max(named, key=lambda job: job.created_at or job.started_at or 0.0, default=None)


class TemplatesScreen(Screen[None]):
    """Lists the templates; ``latest_jobs`` (host → the App's latest job list) gives the
    state of each template's newest job. Launching closes the screen."""

    BINDINGS = [
        Binding("enter", "launch", "Launch", id="templates.launch", priority=True),
        Binding("escape", "app.pop_screen", "Back", id="templates.back"),
    ]

    def __init__(
        self,
        manager: HostManager,
        latest_jobs: Mapping[str, list[Job]],
        *,
        start: Path | None = None,
    ) -> None:
        super().__init__()
        self.manager = manager
        self.latest_jobs = latest_jobs
        self.start = (start or Path.cwd()).absolute()
        self.path = find_templates_file(self.start)
        self.templates: TemplateFile | None = None
        self.error: ConfigError | None = None
        if self.path is not None:
            try:
                self.templates = load_templates(self.path)
            except ConfigError as error:
                self.error = error

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._heading(), id="templates-title", markup=False)
        if self.templates is not None and self.templates.templates:
            table: DataTable[str] = DataTable(id="templates-table", cursor_type="row")
            for column in COLUMNS:
                table.add_column(column.capitalize(), key=column)
            yield table
        else:
            yield Static(self._empty_text(), id="templates-empty", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = str(self.path) if self.path else "no tfdash.toml"
        if self.templates is not None and self.templates.templates:
            table = self.query_one("#templates-table", DataTable)
            for template in self.templates.templates.values():
                table.add_row(*self._cells(template), key=template.name)
            self.set_interval(REFRESH_S, self._refresh_states)

    def _heading(self) -> str:
        if self.path is None:
            return "Templates: none found"
        return f"Templates of {self.path}"

    def _empty_text(self) -> str:
        if self.error is not None:
            return f"{self.error.message}\n\nFix the file, then press T again on the dashboard."
        if self.path is not None:
            return f"{self.path} declares no templates. Add [jobs.NAME] tables, e.g.\n\n{EXAMPLE}"
        return (
            f"{no_templates_message(self.start)}.\n\n"
            f"Write a {TEMPLATES_FILE} in your project's directory (where tfdash was started, "
            f"or a directory above it), e.g.\n\n{EXAMPLE}"
        )

    def _cells(self, template: JobTemplate) -> tuple[str, ...]:
        return (
            template.name,
            template.host,
            template.command,
            template.mode.value,
            self._last_job_text(template),
        )

    def _last_job_text(self, template: JobTemplate) -> str:
        job = newest_job(list(self.latest_jobs.get(template.host, [])), template.name)
        return "-" if job is None else f"{job.state.value} ({job.id})"

    def _refresh_states(self) -> None:
        if self.templates is None:
            return
        table = self.query_one("#templates-table", DataTable)
        for template in self.templates.templates.values():
            table.update_cell(template.name, "last job", self._last_job_text(template))

    @property
    def highlighted(self) -> JobTemplate | None:
        """The template under the table's cursor."""
        if self.templates is None or not self.templates.templates:
            return None
        table = self.query_one("#templates-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.templates.templates.get(str(key))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "launch":
            return True if self.highlighted is not None else None
        return True

    def action_launch(self) -> None:
        """Launch the highlighted template on its host; ask first if its job still runs."""
        template = self.highlighted
        if template is None:
            return
        known = [session.name for session in self.manager.sessions]
        if template.host not in known:
            self.notify(
                f"template {template.name!r} runs on host {template.host!r}, which this "
                f"dashboard does not know (hosts: {', '.join(known)}): add [hosts.{template.host}]"
                " to config.toml and start tfdash again",
                title="Unknown host",
                severity="error",
                markup=False,
            )
            return
        running = newest_job(list(self.latest_jobs.get(template.host, [])), template.name)
        if running is None or not running.state.is_active:
            self._launch(template)
            return

        def answered(choice: Relaunch | None) -> None:
            if choice is Relaunch.ALONGSIDE:
                self._launch(template)
            elif choice is Relaunch.STOP_FIRST and running is not None:
                app = self.app
                app.pop_screen()
                stop_then_launch(app, self.manager.get(template.host), running, template.to_spec())

        self.app.push_screen(RelaunchScreen(template.host, running), callback=answered)

    def _launch(self, template: JobTemplate) -> None:
        """Back to the dashboard; the App launches and highlights the new job."""
        app = self.app
        app.pop_screen()
        app.post_message(LaunchRequested(template.host, template.to_spec()))
