"""The App's actions on jobs: launch, stop and remove run in workers of their own, so the
dashboard stays responsive while a host answers, and each ends in a notification; a
log's save and whole-line requests open their screens; a worker's bug is shown."""

from __future__ import annotations

import dataclasses

from textual import work
from textual.app import App
from textual.worker import Worker, WorkerState

from tfdash.config import AlertSettings
from tfdash.errors import TfdashError
from tfdash.messages import LaunchRequested, RemoveRequested, StopRequested
from tfdash.models import Job, JobSpec
from tfdash.screens.job_actions import STOP_GRACE_S
from tfdash.screens.log_line import LogLineScreen
from tfdash.screens.log_save import LogSaveScreen
from tfdash.services.jobs import JobsService
from tfdash.widgets.job_table import format_exit
from tfdash.widgets.log_view import LogView


class JobWorkers(App[None]):
    """The base of TfdashApp that acts on jobs; the App fills in where jobs go and what
    the dashboard shows next."""

    jobs_services: dict[str, JobsService]
    alert_settings: AlertSettings

    def _wake_poll(self, host: str) -> None:
        """Poll ``host``'s jobs now (the App's poll worker)."""
        raise NotImplementedError

    def _focus_job(self, job_id: str) -> None:
        """Highlight ``job_id`` in the dashboard (a job just launched)."""
        raise NotImplementedError

    def notify_error(self, error: TfdashError) -> None:
        """Show a recoverable error to the person."""
        self.notify(error.message, title=error.title, severity="error", markup=False)

    def on_launch_requested(self, message: LaunchRequested) -> None:
        self._launch(message.host, message.spec)

    def on_stop_requested(self, message: StopRequested) -> None:
        self._stop(message.host, message.job)

    def on_remove_requested(self, message: RemoveRequested) -> None:
        self._remove(message.host, message.job)

    @work(group="job-actions", exit_on_error=False)
    async def _launch(self, host: str, spec: JobSpec) -> None:
        if spec.gpu_idle_minutes is None:  # config.toml's [alerts] gpu_idle_minutes
            minutes = self.alert_settings.gpu_idle_minutes
            spec = dataclasses.replace(spec, gpu_idle_minutes=minutes)
        try:
            job = await self.jobs_services[host].launch(spec)
        except TfdashError as error:
            self.notify_error(error)
            return
        self.notify(
            f"{job.name} is {job.state.value}: {job.id}", title="Job launched", markup=False
        )
        self._focus_job(job.id)
        self._wake_poll(host)

    @work(group="job-actions", exit_on_error=False)
    async def _stop(self, host: str, job: Job) -> None:
        service = self.jobs_services[host]
        try:
            await service.stop(job.id, grace_s=STOP_GRACE_S)
            self._wake_poll(host)
            ended = await service.wait(job.id, timeout=STOP_GRACE_S + 10)
        except TfdashError as error:
            self.notify_error(error)
            return
        finally:
            self._wake_poll(host)
        self.notify(
            f"{ended.name} {ended.state.value} (exit {format_exit(ended)})",
            title="Job stopped",
            markup=False,
        )

    @work(group="job-actions", exit_on_error=False)
    async def _remove(self, host: str, job: Job) -> None:
        try:
            await self.jobs_services[host].remove(job.id)
        except TfdashError as error:
            self.notify_error(error)
            return
        finally:
            self._wake_poll(host)
        self.notify(
            f"{job.name} ({job.id}) and its files are gone.", title="Job removed", markup=False
        )

    def on_log_view_save_requested(self, message: LogView.SaveRequested) -> None:
        self.push_screen(LogSaveScreen(message.session, message.job))

    def on_log_view_line_requested(self, message: LogView.LineRequested) -> None:
        self.push_screen(LogLineScreen(message.session, message.job, message.line, message.shown))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug in one of the App's workers is shown, not swallowed."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(
                f"{type(error).__name__}: {error}",
                title="Internal error",
                severity="error",
                markup=False,
            )
