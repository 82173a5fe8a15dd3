"""The dashboard's answers to the SSH transport's hooks: passphrase modal, upload progress.

The hosts (and their hooks) are built before the App exists, so ``DashboardHooks`` is
created first, handed to ``build_manager`` as ``hooks.ssh``, and bound to the App by
``make_app``. Until then a passphrase is declined and progress is dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.app import App

from tfdash.messages import UploadProgress
from tfdash.screens.passphrase import ask_passphrase
from tfdash.transport.ssh_hooks import SshHooks

# The hosts pane hears about an upload at most this often (plus its first and last step).
UPLOAD_PROGRESS_INTERVAL_S = 0.1


class DashboardHooks:
    """SshHooks whose questions and progress reports go to the bound dashboard."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.app: App[Any] | None = None
        self.ssh = SshHooks(passphrase=self.passphrase, upload_progress=self.upload_progress)
        self._clock = clock
        self._last_report: dict[str, float] = {}

    def bind(self, app: App[Any]) -> None:
        self.app = app

    async def passphrase(self, prompt: str) -> str | None:
        """Ask in a modal; None (declined) while no dashboard runs to ask in."""
        app = self.app
        if app is None or not app.is_running:
            return None
        return await ask_passphrase(app, prompt)

    def upload_progress(self, host: str, sent: int, total: int) -> None:
        """Post UploadProgress for the first and last step, else at most every 0.1 s."""
        app = self.app
        if app is None:
            return
        now = self._clock()
        last = self._last_report.get(host)
        done = sent >= total
        if last is None or sent == 0 or done or now - last >= UPLOAD_PROGRESS_INTERVAL_S:
            self._last_report[host] = now
            app.post_message(UploadProgress(host, sent, total))
        if done:
            self._last_report.pop(host, None)
