"""Client side of the agent's streams: subscriptions that outlive connections.

A ``Subscription`` keeps the cursor of the last notification it received. When the
session reconnects, the ``StreamRouter`` subscribes every open subscription again from
its cursor on the new connection, so its consumer sees every item exactly once and
never notices the drop (except through a ``reconnected`` event, for the UI).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from tfdash.errors import AgentError, ConnectionFailed, RequestTimeout
from tfdash.transport.rpc import RpcClient

logger = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT_S = 30.0
EventKind = Literal["data", "gap", "end", "reconnected"]


@dataclass(frozen=True)
class StreamEvent:
    """One thing a subscription saw: items, a gap, the end, or a resubscription."""

    kind: EventKind
    cursor: dict[str, Any] | None
    items: list[Any] = field(default_factory=list)
    reason: str = ""
    gap_bytes: int | None = None


class Subscription:
    """One stream (``<kind>.subscribe {target, cursor, options}``) across reconnects."""

    def __init__(
        self,
        router: StreamRouter,
        kind: str,
        target: dict[str, Any],
        cursor: dict[str, Any] | None,
        options: dict[str, Any] | None,
    ) -> None:
        self._router = router
        self.kind = kind
        self.target = target
        self.options = dict(options or {})
        self.cursor = cursor
        # Where the agent started the stream (the first subscribe's reply, or ``cursor``).
        self.start_cursor = cursor
        self.sub_id: str | None = None
        self.ended = False
        self.closed = False
        self._events: asyncio.Queue[StreamEvent | None] = asyncio.Queue()

    def _deliver(self, event: StreamEvent) -> None:
        # A gap's cursor is past the data that follows the hole, which comes in the next
        # notification: resuming from it after a drop between the two would skip that data
        # in silence. Resuming from the cursor before the gap finds the hole again instead.
        if event.cursor is not None and event.kind != "gap":
            self.cursor = event.cursor
        if event.kind == "end":
            self.ended = True
        self._events.put_nowait(event)

    def _fail(self, error: BaseException) -> None:
        self.ended = True
        self._events.put_nowait(StreamEvent("end", self.cursor, reason=f"error: {error}"))

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[StreamEvent]:
        while True:
            event = await self._events.get()
            if event is None:
                return
            yield event
            if event.kind == "end":
                return

    async def close(self) -> None:
        """Unsubscribe (if connected) and end the iteration."""
        if self.closed:
            return
        self.closed = True
        await self._router.forget(self)
        self._events.put_nowait(None)


class StreamRouter:
    """Routes stream notifications of the current connection to their subscriptions."""

    def __init__(self, host: str, on_data: Callable[[], None] | None = None) -> None:
        self.host = host
        self._on_data = on_data
        self._subs: list[Subscription] = []
        # Subscriptions this connection has ended: their stragglers are dropped.
        self._gone: set[str] = set()
        self._by_id: dict[str, Subscription] = {}
        # Notifications that arrived before the subscribe reply was processed.
        self._early: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self._rpc: RpcClient | None = None

    async def subscribe(
        self,
        kind: str,
        target: dict[str, Any],
        cursor: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> Subscription:
        sub = Subscription(self, kind, target, cursor, options)
        self._subs.append(sub)
        if self._rpc is not None and not self._rpc.closed:
            try:
                await self._subscribe_on(self._rpc, sub, first=True)
            except AgentError:
                self._subs.remove(sub)
                raise
            except (ConnectionFailed, RequestTimeout) as exc:
                logger.info(
                    "%s: subscribing %s waits for the reconnection: %s", self.host, kind, exc
                )
        return sub

    async def attach(self, rpc: RpcClient) -> None:
        """A new connection: route its notifications and resubscribe from the cursors."""
        self._rpc = rpc
        self._by_id.clear()
        self._early.clear()
        self._gone.clear()
        for method in ("stream.data", "stream.gap", "stream.end"):
            rpc.on_notification(method, self._route_from(rpc, method))
        for sub in list(self._subs):
            if sub.closed or sub.ended:
                continue
            try:
                await self._subscribe_on(rpc, sub, first=False)
            except AgentError as exc:
                # The target is gone (a removed job): that stream is over.
                self._subs.remove(sub)
                sub._fail(exc)
            except (ConnectionFailed, RequestTimeout):
                return  # this connection died already; the next attach tries again

    def _route_from(self, rpc: RpcClient, method: str) -> Any:
        def route(params: dict[str, Any]) -> None:
            if rpc is not self._rpc:
                return  # a straggler from a connection we have left
            sub_id = str(params.get("sub"))
            if self._on_data is not None:
                self._on_data()
            sub = self._by_id.get(sub_id)
            if sub_id in self._gone:
                return
            if sub is None:
                self._early.setdefault(sub_id, []).append((method, params))
                return
            self._dispatch(sub, method, params)

        return route

    def _dispatch(self, sub: Subscription, method: str, params: dict[str, Any]) -> None:
        cursor = params.get("cursor")
        if method == "stream.data":
            sub._deliver(StreamEvent("data", cursor, items=list(params.get("items") or [])))
        elif method == "stream.gap":
            sub._deliver(
                StreamEvent(
                    "gap",
                    cursor,
                    reason=str(params.get("reason", "")),
                    gap_bytes=params.get("bytes"),
                )
            )
        else:
            self._by_id.pop(str(params.get("sub")), None)
            self._gone.add(str(params.get("sub")))
            if sub in self._subs:
                self._subs.remove(sub)
            sub._deliver(StreamEvent("end", cursor, reason=str(params.get("reason", ""))))

    async def _subscribe_on(self, rpc: RpcClient, sub: Subscription, first: bool) -> None:
        params: dict[str, Any] = {"target": sub.target, "options": sub.options}
        if sub.cursor is not None:
            params["cursor"] = sub.cursor
        result = await rpc.call(f"{sub.kind}.subscribe", params, timeout=SUBSCRIBE_TIMEOUT_S)
        if sub.closed:
            with contextlib.suppress(AgentError, ConnectionFailed, RequestTimeout):
                await rpc.call("unsubscribe", {"sub": result["sub"]}, timeout=5)
            return
        sub.sub_id = str(result["sub"])
        if sub.cursor is None:
            sub.cursor = result.get("cursor")
        if sub.start_cursor is None:
            sub.start_cursor = sub.cursor
        self._by_id[sub.sub_id] = sub
        if not first:
            sub._deliver(StreamEvent("reconnected", sub.cursor))
        for method, params in self._early.pop(sub.sub_id, []):
            self._dispatch(sub, method, params)

    async def forget(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
        sub_id, rpc = sub.sub_id, self._rpc
        if sub_id is not None:
            self._by_id.pop(sub_id, None)
            self._gone.add(sub_id)
        if sub_id is not None and rpc is not None and not rpc.closed and not sub.ended:
            with contextlib.suppress(AgentError, ConnectionFailed, RequestTimeout):
                await rpc.call("unsubscribe", {"sub": sub_id}, timeout=5)

    def detach(self) -> None:
        """The connection is gone; subscriptions wait for the next ``attach``."""
        self._rpc = None
        self._by_id.clear()
        self._early.clear()
        self._gone.clear()

    def close_all(self) -> None:
        for sub in list(self._subs):
            sub.closed = True
            sub._events.put_nowait(None)
        self._subs.clear()
        self.detach()
