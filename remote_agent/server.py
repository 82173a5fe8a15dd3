"""The JSON-lines JSON-RPC 2.0 loop: read requests from stdin, answer on stdout.

Requests run concurrently on a thread pool (a slow one, like a long-polling log read,
never holds up a ping); replies are written whole, one line each, under a lock. A bad
line gets an error reply and the loop goes on. End of input ends the agent and touches
no job.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

from . import protocol, wire
from .errors import AgentError, InternalError, InvalidRequest, ParseError
from .handlers import Registry, RequestContext
from .readahead import ReadAhead
from .streams import StreamManager

log = logging.getLogger("remote_agent.server")


class Server:
    """Serves one connection: ``rfile`` carries requests in, ``wfile`` replies out."""

    def __init__(
        self, registry: Registry, rfile: BinaryIO, wfile: BinaryIO, max_workers: int = 32
    ) -> None:
        self.registry = registry
        self.rfile = rfile
        self.wfile = wfile
        self._write_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="rpc")
        self._inflight: dict[Any, RequestContext] = {}
        self._inflight_lock = threading.Lock()
        self.streams = StreamManager(self.notify)
        self.readahead = ReadAhead()
        self.closed = threading.Event()

    def serve(self) -> None:
        """Answer requests until the input ends."""
        try:
            while True:
                line = self._read_line()
                if line is None:
                    break
                if line.strip():
                    self._dispatch_line(line)
        finally:
            # Input ended: cut waiting requests short, let the others (a launch under way)
            # finish and answer, in case the reader is still there.
            with self._inflight_lock:
                for ctx in self._inflight.values():
                    ctx.cancelled.set()
            self.streams.close()
            self.readahead.close()
            self._pool.shutdown(wait=True)
            self.closed.set()

    def _read_line(self) -> bytes | None:
        """The next line, or None at end of input; an over-long line is drained and flagged."""
        line = self.rfile.readline(protocol.MAX_LINE_BYTES + 1)
        if not line:
            return None
        if len(line) > protocol.MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:
                rest = self.rfile.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            self.send_error(
                None,
                ParseError(
                    f"request line longer than {protocol.MAX_LINE_BYTES} bytes was discarded"
                ),
            )
            return b""
        return line

    def _dispatch_line(self, line: bytes) -> None:
        try:
            message = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            self.send_error(None, ParseError(f"request is not valid JSON: {e}"))
            return
        if not isinstance(message, dict):
            self.send_error(None, InvalidRequest("request must be a JSON object"))
            return
        request_id = message.get("id")
        is_notification = "id" not in message
        method = message.get("method")
        params = message.get("params", {})
        if (
            message.get("jsonrpc") != protocol.JSONRPC
            or not isinstance(method, str)
            or not isinstance(request_id, (int, str, type(None)))
            or isinstance(request_id, bool)
        ):
            if not is_notification:
                self.send_error(
                    request_id if isinstance(request_id, (int, str)) else None,
                    InvalidRequest(
                        'a request needs "jsonrpc": "2.0", a string "method" and an id '
                        "that is a number or a string"
                    ),
                )
            return
        if params is None:
            params = {}
        if not isinstance(params, dict):
            if not is_notification:
                self.send_error(request_id, InvalidRequest('"params" must be a JSON object'))
            return
        if method == protocol.CANCEL_METHOD:
            self._cancel(params.get("id"))
            return
        ctx = RequestContext(request_id, method, is_notification)
        ctx.streams = self.streams
        ctx.readahead = self.readahead
        handler = self.registry.lookup(method)
        if handler.inline:
            self._run(handler, params, ctx)
            return
        with self._inflight_lock:
            if not is_notification:
                self._inflight[request_id] = ctx
        try:
            self._pool.submit(self._run, handler, params, ctx)
        except RuntimeError:  # the pool is shut down: the connection is closing
            self._forget(ctx)

    def _run(self, handler: Any, params: dict[str, Any], ctx: RequestContext) -> None:
        try:
            result = handler(params, ctx)
        except AgentError as e:
            self._reply(ctx, error=e)
        except Exception as e:
            log.exception("internal error in %s", ctx.method)
            self._reply(ctx, error=InternalError(f"{ctx.method} failed: {e}"))
        else:
            # A handler that honours cancellation raises RequestCancelled itself; one that
            # finished its work anyway reports what it did.
            self._reply(ctx, result=result)
            for callback in ctx.after_reply:
                callback()
        finally:
            self._forget(ctx)

    def _forget(self, ctx: RequestContext) -> None:
        with self._inflight_lock:
            if self._inflight.get(ctx.id) is ctx:
                del self._inflight[ctx.id]

    def _cancel(self, request_id: Any) -> None:
        with self._inflight_lock:
            ctx = self._inflight.get(request_id)
        if ctx is not None:
            ctx.cancelled.set()

    def _reply(
        self, ctx: RequestContext, result: Any = None, error: AgentError | None = None
    ) -> None:
        if ctx.is_notification:
            return
        if error is not None:
            self.send_error(ctx.id, error)
        else:
            self.send({"jsonrpc": protocol.JSONRPC, "id": ctx.id, "result": result})

    def send_error(self, request_id: Any, error: AgentError) -> None:
        self.send({"jsonrpc": protocol.JSONRPC, "id": request_id, "error": error.to_wire()})

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.send({"jsonrpc": protocol.JSONRPC, "method": method, "params": params})

    def send(self, message: dict[str, Any]) -> None:
        """Write one message as one line; a broken output closes the server."""
        pieces = wire.encode(message)
        with self._write_lock:
            if self.closed.is_set():
                return
            try:
                for piece in pieces:  # written one by one: a big reply is never copied whole
                    self.wfile.write(piece)
                self.wfile.flush()
            except (BrokenPipeError, OSError, ValueError):
                self.closed.set()
