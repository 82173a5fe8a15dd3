"""Delivering alerts in the dashboard: notifications, the bell and the unread count.

The App asks ``deliver`` after each jobs poll of a connected host (the first one right
after it connects): the host's alerts past its saved cursor are shown, then the cursor
is saved, so alerts raised while the laptop was away show up once (docs/alerts.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.app import App

from tfdash.config import AlertSettings
from tfdash.models import Alert, Job
from tfdash.services.alerts import AlertsService
from tfdash.transport.session import HostSession

MAX_NOTIFICATIONS = 5
"""Notifications per delivery; beyond them one says how many more the list (``!``) has."""

SEVERITIES = {"info": "information", "warning": "warning", "error": "error"}


def rings(settings: AlertSettings, alerts: Iterable[Alert]) -> bool:
    """Whether these new alerts ring the terminal bell, by ``[alerts] bell``."""
    if settings.bell == "off":
        return False
    return any(settings.bell == "all" or alert.severity == "error" for alert in alerts)


def alert_title(alert: Alert, jobs: list[Job]) -> str:
    """ "Alert: NAME" (the job's name if it is known, else its id) and the host."""
    names = {job.id: job.name for job in jobs}
    return f"Alert: {names.get(alert.job, alert.job)} on {alert.host}"


class AlertInbox:
    """Per-host AlertsServices and the count of alerts not seen in the list yet."""

    def __init__(
        self,
        sessions: Iterable[HostSession],
        settings: AlertSettings,
        on_unread: Callable[[int], None],
    ) -> None:
        self.settings = settings
        self.services = {session.name: AlertsService(session) for session in sessions}
        self.unread = 0
        self._on_unread = on_unread

    async def deliver(self, app: App[None], host: str, jobs: list[Job]) -> list[Alert]:
        """Fetch the host's new alerts, show them, then mark them delivered."""
        service = self.services[host]
        new = await service.fetch_new()
        if new:
            if self.settings.notify:
                for alert in new[-MAX_NOTIFICATIONS:]:
                    app.notify(
                        alert.message,
                        title=alert_title(alert, jobs),
                        severity=SEVERITIES.get(alert.severity, "information"),  # type: ignore[arg-type]
                        markup=False,
                    )
                if len(new) > MAX_NOTIFICATIONS:
                    app.notify(
                        f"{len(new) - MAX_NOTIFICATIONS} more new alerts: press ! to list them",
                        title=f"Alerts on {host}",
                        markup=False,
                    )
            if rings(self.settings, new):
                app.bell()
            self.unread += len(new)
            self._on_unread(self.unread)
        service.mark_delivered()
        return new

    def mark_read(self) -> None:
        """The alerts list was opened: nothing is unread."""
        self.unread = 0
        self._on_unread(0)
