"""Screens of the dashboard, one per module; modal forms return typed results."""

from __future__ import annotations

from tfdash.screens.confirm import ConfirmScreen
from tfdash.screens.host_key import HostKeyScreen
from tfdash.screens.job_detail import JobDetailScreen
from tfdash.screens.launch import LaunchScreen, build_spec
from tfdash.screens.main import MainScreen
from tfdash.screens.passphrase import PassphraseScreen

__all__ = [
    "ConfirmScreen",
    "HostKeyScreen",
    "JobDetailScreen",
    "LaunchScreen",
    "MainScreen",
    "PassphraseScreen",
    "build_spec",
]
