"""The two abstractions every way of reaching an agent implements: Channel and Transport."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

STDERR_TAIL_LINES = 50
STDERR_LINE_MAX_CHARS = 1000


class ChannelReader(Protocol):
    """The reading half of a channel: chunks of the agent's stdout, b"" at the end."""

    async def read(self, n: int = -1) -> bytes: ...


class ChannelWriter(Protocol):
    """The writing half of a channel (asyncio.StreamWriter has this shape)."""

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def close(self) -> None: ...


class Channel(Protocol):
    """One open byte stream to an agent: its stdout to read, its stdin to write."""

    @property
    def reader(self) -> ChannelReader:
        """The agent's stdout."""
        ...

    @property
    def writer(self) -> ChannelWriter:
        """The agent's stdin."""
        ...

    async def close(self) -> None:
        """Close the stream; the agent exits when its stdin ends."""
        ...

    def describe(self) -> str:
        """A short description for messages: "local agent pid 123", "ssh ml@gpu:2222"."""
        ...

    def stderr_tail(self) -> str:
        """The last lines the agent wrote to stderr, for error messages ("" if none)."""
        ...


class Transport(ABC):
    """A way to start an agent and get a Channel to it."""

    name: str

    @abstractmethod
    async def open(self) -> Channel:
        """Start (or reach) an agent; raises ConnectionFailed with an actionable message."""


class StderrTail:
    """The last lines an agent wrote to stderr, kept to explain why a link ended."""

    def __init__(self) -> None:
        self._lines: deque[str] = deque(maxlen=STDERR_TAIL_LINES)

    def text(self) -> str:
        return "\n".join(self._lines)

    async def drain(self, read: Callable[[int], Awaitable[bytes]]) -> None:
        """Read the stream to its end (or a broken link), keeping its last lines."""
        pending = b""
        try:
            while chunk := await read(64 * 1024):
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    self._keep(line)
                if len(pending) > STDERR_LINE_MAX_CHARS * 4:
                    self._keep(pending)
                    pending = b""
        except OSError as exc:  # the link broke: what came before it is what we have
            self._keep(f"(stderr ended: {exc})".encode())
        if pending:
            self._keep(pending)

    def _keep(self, line: bytes) -> None:
        text = line.decode("utf-8", errors="replace").rstrip()
        if text:
            self._lines.append(text[:STDERR_LINE_MAX_CHARS])
