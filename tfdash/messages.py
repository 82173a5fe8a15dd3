"""App-level messages: what screens ask the App to do, and what the App learns from hosts.

Screens post the `*Requested` messages (they bubble to the App, which runs the RPC in a
worker); the App posts `HostStatusChanged` to itself from the session callbacks.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from tfdash.models import HostStatus, Job, JobSpec


@dataclass
class HostStatusChanged(Message):
    """A host's connection state changed."""

    status: HostStatus


@dataclass
class LaunchRequested(Message):
    """The person submitted the launch form for `host`."""

    host: str
    spec: JobSpec


@dataclass
class StopRequested(Message):
    """The person confirmed stopping `job` on `host`."""

    host: str
    job: Job


@dataclass
class RemoveRequested(Message):
    """The person confirmed removing the ended `job` on `host`."""

    host: str
    job: Job
