"""Screens of the dashboard, one per module; modal forms return typed results."""

from __future__ import annotations

from tfdash.screens.confirm import ConfirmScreen
from tfdash.screens.job_detail import JobDetailScreen
from tfdash.screens.launch import LaunchScreen, build_spec
from tfdash.screens.main import MainScreen

__all__ = ["ConfirmScreen", "JobDetailScreen", "LaunchScreen", "MainScreen", "build_spec"]
