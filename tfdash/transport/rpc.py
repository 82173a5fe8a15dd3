"""JSON-RPC 2.0 over a Channel: one JSON object per line, replies matched to calls by id.

The read loop reads 64 KiB chunks and splits lines itself (``async for`` over a stream is
20x slower, see FACTS.md). A line that is not a JSON object is logged and counted, never
fatal. When the link closes every pending call fails with ConnectionFailed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable
from typing import Any

from remote_agent import protocol
from tfdash.errors import AgentError, ConnectionFailed, RequestTimeout
from tfdash.transport.base import Channel

logger = logging.getLogger(__name__)

READ_CHUNK_BYTES = 64 * 1024
# After a failed write, how long to wait for the read loop to see why the link closed.
CLOSE_NOTICE_S = 5.0
NotificationHandler = Callable[[dict[str, Any]], None]


class RpcClient:
    """Calls, notifications and cancellation over one channel to an agent."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._handlers: dict[str, list[NotificationHandler]] = {}
        self._read_task: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self._close_reason: str | None = None
        self._channel_closing: asyncio.Task[None] | None = None
        self.bad_lines = 0
        """How many received lines were not JSON objects (each is logged at warning)."""

    @property
    def channel(self) -> Channel:
        return self._channel

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def close_reason(self) -> str | None:
        """Why the link closed (with the agent's last stderr lines), or None while open."""
        return self._close_reason

    def start(self) -> None:
        """Start the read loop (once)."""
        if self._read_task is None:
            self._read_task = asyncio.get_running_loop().create_task(
                self._read_loop(), name=f"rpc-read {self._channel.describe()}"
            )

    def on_notification(self, method: str, handler: NotificationHandler) -> None:
        """Call ``handler(params)`` for every notification named ``method``."""
        self._handlers.setdefault(method, []).append(handler)

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = 30.0
    ) -> Any:
        """Send a request and return its result.

        Raises AgentError for an error reply, RequestTimeout after ``timeout`` seconds and
        ConnectionFailed if the link is or becomes closed. A timeout or a cancellation of
        the awaiting task sends ``rpc.cancel`` so the agent abandons the request.
        """
        if self.closed:
            raise self._closed_error()
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        message = {
            "jsonrpc": protocol.JSONRPC,
            "id": request_id,
            "method": method,
            "params": params or {},
        }
        try:
            await self._send(message)
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self._send_cancel(request_id)
            raise RequestTimeout(
                f"the agent ({self._channel.describe()}) did not answer {method} "
                f"within {timeout:g} s"
            ) from None
        except asyncio.CancelledError:
            self._send_cancel(request_id)
            raise
        finally:
            self._pending.pop(request_id, None)

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        """Send a notification (no reply)."""
        await self._send({"jsonrpc": protocol.JSONRPC, "method": method, "params": params or {}})

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def close(self) -> None:
        """Stop reading, close the channel and fail the pending calls."""
        task = self._read_task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
        await self._close_channel()
        self._shut_down("the client closed the connection")

    # -- writing -----------------------------------------------------------------------

    async def _send(self, message: dict[str, Any]) -> None:
        if self.closed:
            raise self._closed_error()
        line = json.dumps(message, separators=(",", ":")).encode() + b"\n"
        try:
            self._channel.writer.write(line)
            await self._channel.writer.drain()
        except (ConnectionError, OSError) as exc:
            # The agent is gone; the read loop is about to see the end of its output and
            # collect its last stderr lines, which say why better than EPIPE does.
            if self._read_task is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), CLOSE_NOTICE_S)
            if self.closed:
                raise self._closed_error() from exc
            raise ConnectionFailed(
                f"cannot send to the agent ({self._channel.describe()}): {exc}"
            ) from exc

    def _send_cancel(self, request_id: int) -> None:
        """Best effort, without waiting: the agent ignores a cancel for a finished request."""
        if self.closed:
            return
        message: dict[str, Any] = {"jsonrpc": protocol.JSONRPC, "method": protocol.CANCEL_METHOD}
        message["params"] = {"id": request_id}
        try:
            self._channel.writer.write(json.dumps(message).encode() + b"\n")
        except (ConnectionError, OSError, RuntimeError) as exc:
            logger.debug("could not send rpc.cancel for %s: %s", request_id, exc)

    # -- reading -----------------------------------------------------------------------

    async def _read_loop(self) -> None:
        reason = "the agent closed the connection"
        try:
            await self._read_lines()
        except (ConnectionError, OSError) as exc:
            reason = f"reading from the agent failed: {exc}"
        # The link is gone: close our side (which also collects the agent's last stderr).
        await self._close_channel()
        self._shut_down(reason)

    async def _read_lines(self) -> None:
        reader = self._channel.reader
        buffer = bytearray()
        while True:
            data = await reader.read(READ_CHUNK_BYTES)
            if not data:
                return
            search_from = len(buffer)
            buffer += data
            start = 0
            while (newline := buffer.find(b"\n", search_from)) >= 0:
                line = bytes(buffer[start:newline]).strip()
                if line:
                    self._handle_line(line)
                start = search_from = newline + 1
            if start:
                del buffer[:start]

    def _handle_line(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            self._bad_line(line, "not JSON")
            return
        if not isinstance(message, dict):
            self._bad_line(line, "not a JSON object")
        elif "method" in message and "id" not in message:
            self._dispatch_notification(message)
        elif "id" in message and ("result" in message or "error" in message):
            self._resolve_reply(message)
        else:
            self._bad_line(line, "neither a reply nor a notification")

    def _bad_line(self, line: bytes, why: str) -> None:
        self.bad_lines += 1
        logger.warning(
            "ignoring a line from %s (%s): %r", self._channel.describe(), why, line[:200]
        )

    def _resolve_reply(self, message: dict[str, Any]) -> None:
        request_id = message["id"]
        error = message.get("error")
        if request_id is None:
            logger.warning("the agent rejected a line we sent: %r", error)
            return
        future = self._pending.get(request_id)
        if future is None or future.done():
            logger.debug("reply to a request nobody waits for: %r", request_id)
            return
        if error is None:
            future.set_result(message.get("result"))
            return
        if not isinstance(error, dict):
            error = {"code": protocol.INTERNAL_ERROR, "message": f"malformed error: {error!r}"}
        data = error.get("data")
        future.set_exception(
            AgentError(
                int(error.get("code", protocol.INTERNAL_ERROR)),
                str(error.get("message", "the agent reported an error without a message")),
                data if isinstance(data, dict) else None,
            )
        )

    def _dispatch_notification(self, message: dict[str, Any]) -> None:
        method = message["method"]
        params = message.get("params")
        for handler in self._handlers.get(method, ()):
            try:
                handler(params if isinstance(params, dict) else {})
            except Exception:
                logger.exception("notification handler for %s failed", method)

    # -- closing -----------------------------------------------------------------------

    async def _close_channel(self) -> None:
        """Close the channel once; every caller waits for that one close to finish."""
        if self._channel_closing is None:
            self._channel_closing = asyncio.get_running_loop().create_task(
                self._channel.close(), name=f"rpc-close {self._channel.describe()}"
            )
        await asyncio.shield(self._channel_closing)

    def _shut_down(self, reason: str) -> None:
        if self.closed:
            return
        tail = self._channel.stderr_tail().strip()
        message = f"lost the connection to the {self._channel.describe()}: {reason}"
        if tail:
            message += f"; its last stderr lines:\n{tail}"
        self._close_reason = message
        self._closed.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(self._closed_error())
        self._pending.clear()

    def _closed_error(self) -> ConnectionFailed:
        return ConnectionFailed(self._close_reason or "the connection to the agent is closed")
