"""One HostSession per host: connect + hello, liveness pings, reconnect with backoff.

A session hides dropped links from its callers: ``call()`` waits for the reconnection
(within its timeout) instead of failing at once. The HostManager owns all sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from tfdash.errors import AgentError, ConnectionFailed
from tfdash.models import HostInfo, HostState, HostStatus
from tfdash.transport.base import Transport
from tfdash.transport.handshake import say_hello
from tfdash.transport.liveness import watch_link
from tfdash.transport.rpc import RpcClient
from tfdash.transport.status import StatusCallback, StatusPublisher
from tfdash.transport.streams import StreamRouter, Subscription

logger = logging.getLogger(__name__)

# Methods that only read: repeating one after a dropped link is harmless.
REPEATABLE_METHODS = frozenset(
    {
        *("hello", "ping", "jobs.list", "jobs.get"),
        *("logs.read", "logs.before", "logs.files"),
        *("scalars.runs", "scalars.read", "scalars.points", "gpu.sample", "gpu.history"),
        *("exports.candidates", "exports.get", "exports.list", "exports.log"),
        "alerts.list",
    }
)


class HostSession:
    """A connection to one host's agent that survives drops until close()."""

    def __init__(
        self,
        name: str,
        transport: Transport,
        *,
        reconnect: bool = True,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
        ping_interval: float = 5.0,
    ) -> None:
        self.name = name
        self.transport = transport
        self.reconnect = reconnect
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.ping_interval = ping_interval
        self._status = StatusPublisher(name)
        self._streams = StreamRouter(name, on_data=self._status.note_data)
        self._rpc: RpcClient | None = None
        self._runner: asyncio.Task[None] | None = None
        self._started = False
        self._closing = False
        self._failure: ConnectionFailed | None = None
        self._retry_wake = asyncio.Event()

    @property
    def status(self) -> HostStatus:
        return self._status.current

    @property
    def info(self) -> HostInfo | None:
        return self._status.current.info

    @property
    def failure(self) -> ConnectionFailed | None:
        """While FAILED: the error that needs a person (a HostKeyUnknown to trust, …)."""
        if self._status.current.state is not HostState.FAILED:
            return None
        return self._failure

    def subscribe_status(self, callback: StatusCallback) -> Callable[[], None]:
        """Call ``callback`` on every status change; returns the unsubscribe function."""
        return self._status.subscribe(callback)

    async def start(self) -> None:
        """Connect and say hello.

        Without reconnect a failure raises ConnectionFailed (status FAILED). With reconnect
        this returns after the first attempt and, if it failed, keeps retrying in the
        background. A failure that is not ``retryable`` (a protocol mismatch, a refused
        key) is never retried: it needs a person.
        """
        if self._started:
            return
        self._started = True
        self._status.update(state=HostState.CONNECTING, message="connecting", attempt=1)
        error: str | None = None
        try:
            await self._connect_once()
        except ConnectionFailed as exc:
            if self._closing:
                raise
            if not exc.retryable or not self.reconnect:
                self._failure = exc
                self._status.update(state=HostState.FAILED, message=exc.message)
                if not self.reconnect:
                    raise
                return
            error = exc.message
        self._runner = asyncio.get_running_loop().create_task(
            self._run(error), name=f"session {self.name}"
        )

    async def retry_now(self) -> None:
        """Connect again at once, once a person fixed something (trusted a key, …).

        A FAILED session starts over (like ``start()``); a RECONNECTING one skips the
        rest of its backoff wait. Does nothing in any other state or once closed.
        """
        if self._closing:
            return
        state = self._status.current.state
        if state is HostState.RECONNECTING:
            self._retry_wake.set()
        elif state is HostState.FAILED:
            runner, self._runner = self._runner, None
            if runner is not None and not runner.done():
                await asyncio.wait([runner])  # it returns right after reporting FAILED
            self._started = False
            await self.start()

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = 30.0
    ) -> Any:
        """Call ``method`` on the agent, waiting for a reconnection within ``timeout``.

        If the link drops under a call that is safe to repeat (a read, or a request that
        carries a request_id), the call is made again once the session has reconnected.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            rpc = await self._connected_rpc(deadline, timeout)
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                result = await rpc.call(method, params, timeout=remaining)
            except AgentError:
                self._status.note_data()  # an error reply still proves the link is alive
                raise
            except ConnectionFailed:
                if self._closing or not self.reconnect or not is_repeatable(method, params):
                    raise
                logger.info("%s: the link dropped under %s; asking again", self.name, method)
                continue
            self._status.note_data()
            return result

    async def subscribe(
        self,
        kind: str,
        target: dict[str, Any],
        *,
        cursor: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> Subscription:
        """Open a stream (``<kind>.subscribe``) that resumes from its cursor after drops.

        Raises AgentError when the agent refuses it (an unknown job); while the host is
        reconnecting the subscription waits and starts on the next connection.
        """
        if self._closing or not self._started:
            raise ConnectionFailed(f"the session to {self.name} is not open")
        if self._status.current.state is HostState.FAILED:
            raise ConnectionFailed(self._status.current.message or f"cannot reach {self.name}")
        return await self._streams.subscribe(kind, target, cursor, options)

    async def close(self) -> None:
        """Stop reconnecting and close the connection; later calls fail."""
        self._closing = True
        self._streams.close_all()
        runner = self._runner
        if runner is not None and not runner.done():
            runner.cancel()
            await asyncio.wait([runner])
        rpc, self._rpc = self._rpc, None
        if rpc is not None:
            await rpc.close()
        self._status.update(state=HostState.DISCONNECTED, message="closed", retry_at=None)

    async def _connect_once(self) -> None:
        channel = await self.transport.open()
        rpc = RpcClient(channel)
        rpc.start()
        try:
            info = await say_hello(rpc, self.name)
        except BaseException:
            await rpc.close()
            raise
        if self._closing:
            await rpc.close()
            raise ConnectionFailed(f"the session to {self.name} is closed")
        self._rpc = rpc
        self._failure = None
        now = time.time()
        self._status.update(
            state=HostState.CONNECTED,
            message=channel.describe(),
            attempt=0,
            retry_at=None,
            info=info,
            connected_at=now,
            last_data_at=now,
        )
        await self._streams.attach(rpc)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: attempt 1 waits at most backoff_initial."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2.0 ** min(attempt - 1, 30))
        return ceiling * random.uniform(0.5, 1.0)

    async def _run(self, error: str | None) -> None:
        """Watch the connection; reconnect after a loss (or fail without reconnect)."""
        try:
            await self._watch_and_reconnect(error)
        except Exception as exc:
            logger.exception("session %s stopped unexpectedly", self.name)
            self._status.update(state=HostState.FAILED, message=f"internal error: {exc}")

    async def _watch_and_reconnect(self, error: str | None) -> None:
        attempt = 0
        while not self._closing:
            if error is None:
                error = await self._watch_connection()
                if not self.reconnect:
                    return
                attempt = 0
            attempt += 1
            delay = self._backoff(attempt)
            self._retry_wake.clear()
            self._status.update(
                state=HostState.RECONNECTING,
                message=error,
                attempt=attempt,
                retry_at=time.time() + delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._retry_wake.wait(), delay)
            self._status.update(retry_at=None)
            try:
                await self._connect_once()
                error = None
            except ConnectionFailed as exc:
                if not exc.retryable:  # it needs a person: a key, a host key, an upgrade
                    self._failure = exc
                    self._status.update(state=HostState.FAILED, message=exc.message, retry_at=None)
                    return
                error = exc.message

    async def _watch_connection(self) -> str:
        """Ping until the link dies; close it and return why it ended."""
        rpc = self._rpc
        if rpc is None:
            return "not connected"
        reason = await watch_link(rpc, self.ping_interval, self._status.note_data)
        self._rpc = None
        self._streams.detach()
        # Say so before closing: closing a frozen agent takes a few seconds.
        lost = HostState.RECONNECTING if self.reconnect else HostState.FAILED
        self._status.update(state=lost, message=reason, retry_at=None)
        await rpc.close()
        return reason

    async def _connected_rpc(self, deadline: float | None, timeout: float | None) -> RpcClient:
        loop = asyncio.get_running_loop()
        while True:
            status = self._status.current
            if self._closing:
                raise ConnectionFailed(f"the session to {self.name} is closed")
            if status.state is HostState.FAILED:
                raise ConnectionFailed(status.message or f"cannot connect to {self.name}")
            if not self._started:
                raise ConnectionFailed(f"the session to {self.name} was never started")
            rpc = self._rpc
            if status.state is HostState.CONNECTED and rpc is not None and not rpc.closed:
                return rpc
            remaining = None if deadline is None else deadline - loop.time()
            try:
                if remaining is not None and remaining <= 0:
                    raise TimeoutError
                await self._status.wait_changed(remaining)
            except TimeoutError:
                raise ConnectionFailed(
                    f"{self.name} is {status.state.value} ({status.message}); "
                    f"gave up waiting for it after {timeout:g} s"
                ) from None


def is_repeatable(method: str, params: dict[str, Any] | None) -> bool:
    """Whether asking again after a dropped link cannot do anything twice."""
    return method in REPEATABLE_METHODS or bool(params and params.get("request_id"))
