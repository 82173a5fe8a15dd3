"""App-level messages: what screens ask the App to do, and what the App learns from hosts.

Screens post the `*Requested` messages (they bubble to the App, which runs the RPC in a
worker); the App posts `HostStatusChanged` and `UploadProgress` to itself from the
session callbacks and the SSH hooks.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from tfdash.errors import ConnectionFailed, HostKeyUnknown
from tfdash.models import HostStatus, Job, JobSpec


@dataclass
class HostStatusChanged(Message):
    """A host's connection state changed; `failure` is why, if it FAILED for a known cause."""

    status: HostStatus
    failure: ConnectionFailed | None = None


@dataclass
class UploadProgress(Message):
    """The agent is being uploaded to `host` (coalesced to a few per second)."""

    host: str
    sent: int
    total: int


@dataclass
class TrustHostKeyRequested(Message):
    """The person trusts the unknown key `refused` of `host`: record it, connect again."""

    host: str
    refused: HostKeyUnknown


@dataclass
class RetryHostRequested(Message):
    """The person asks `host` to connect again now (after fixing what made it fail)."""

    host: str


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
