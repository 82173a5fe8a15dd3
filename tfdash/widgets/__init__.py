"""Textual widgets of the dashboard, one per module; they import services, never screens."""

from __future__ import annotations

from tfdash.widgets.host_list import HostList, HostRow
from tfdash.widgets.job_fields import JobFields
from tfdash.widgets.job_table import JobTable
from tfdash.widgets.log_view import LogView
from tfdash.widgets.status_bar import StatusBar

__all__ = ["HostList", "HostRow", "JobFields", "JobTable", "LogView", "StatusBar"]
