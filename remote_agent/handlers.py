"""The methods the agent answers, registered by name with a decorator (docs/protocol.md)."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict

from . import hostinfo, protocol, tail
from .errors import MethodNotFound, ProtocolMismatch
from .jobs import JobStore
from .paths import tfdash_home
from .streams import StreamManager
from .validate import Params

Handler = Callable[[Dict[str, Any], "RequestContext"], Any]


class RequestContext:
    """One request in flight: its id, and an event set when the client cancels it."""

    def __init__(self, request_id: Any, method: str, is_notification: bool = False) -> None:
        self.id = request_id
        self.method = method
        self.is_notification = is_notification
        self.cancelled = threading.Event()
        # Set by the server: this connection's subscriptions.
        self.streams: StreamManager | None = None
        # Run after the reply is written (a subscription starts only once its id is known).
        self.after_reply: list[Callable[[], None]] = []


class Method:
    def __init__(self, func: Callable[[Params, RequestContext], Any], inline: bool) -> None:
        self.func = func
        # Inline methods are answered on the reading thread: cheap ones that must never
        # queue behind slow requests (hello, ping).
        self.inline = inline

    def __call__(self, params: dict[str, Any], ctx: RequestContext) -> Any:
        return self.func(Params(params), ctx)


class Registry:
    """Method name → handler; ``lookup`` of an unknown name answers -32601."""

    def __init__(self) -> None:
        self._methods: dict[str, Method] = {}

    def method(
        self, name: str, inline: bool = False
    ) -> Callable[
        [Callable[[Params, RequestContext], Any]], Callable[[Params, RequestContext], Any]
    ]:
        def register(
            func: Callable[[Params, RequestContext], Any],
        ) -> Callable[[Params, RequestContext], Any]:
            self._methods[name] = Method(func, inline)
            return func

        return register

    def lookup(self, name: str) -> Method:
        method = self._methods.get(name)
        if method is None:
            return Method(_unknown(name), inline=True)
        return method

    @property
    def names(self) -> list:  # type: ignore[type-arg]
        return sorted(self._methods)


def _unknown(name: str) -> Callable[[Params, RequestContext], Any]:
    def answer(params: Params, ctx: RequestContext) -> Any:
        raise MethodNotFound(
            "unknown method {!r}: this agent answers {}".format(name, ", ".join(registry.names)),
            {"method": name},
        )

    return answer


registry = Registry()
_store: dict[str, JobStore] = {}


def store() -> JobStore:
    """The job store under the current ``$TFDASH_HOME`` (created on first use)."""
    home = str(tfdash_home())
    if home not in _store:
        _store[home] = JobStore(tfdash_home())
    return _store[home]


@registry.method("hello", inline=True)
def hello(params: Params, ctx: RequestContext) -> Any:
    client_protocol = params.get_int("protocol")
    if client_protocol is not None and client_protocol != protocol.PROTOCOL_VERSION:
        side = (
            "the agent" if client_protocol > protocol.PROTOCOL_VERSION else "tfdash on the laptop"
        )
        raise ProtocolMismatch(
            f"protocol mismatch: the client speaks version {client_protocol}, "
            f"this agent speaks {protocol.PROTOCOL_VERSION}; upgrade {side}",
            {"client": client_protocol, "agent": protocol.PROTOCOL_VERSION},
        )
    return hostinfo.hello_result()


@registry.method("ping", inline=True)
def ping(params: Params, ctx: RequestContext) -> Any:
    return {"time": time.time()}


@registry.method("jobs.launch")
def jobs_launch(params: Params, ctx: RequestContext) -> Any:
    return store().launch(params)


@registry.method("jobs.list")
def jobs_list(params: Params, ctx: RequestContext) -> Any:
    return {"jobs": store().list()}


@registry.method("jobs.get")
def jobs_get(params: Params, ctx: RequestContext) -> Any:
    return store().get(params.get_str("id", required=True))


@registry.method("jobs.stop")
def jobs_stop(params: Params, ctx: RequestContext) -> Any:
    grace = params.get_float("grace_s", protocol.DEFAULT_STOP_GRACE_S, minimum=0.0)
    params.get_str("request_id")  # stop is idempotent by nature; the id is only checked
    return store().stop(params.get_str("id", required=True), grace)


@registry.method("jobs.remove")
def jobs_remove(params: Params, ctx: RequestContext) -> Any:
    return store().remove(params.get_str("id", required=True))


@registry.method("logs.read")
def logs_read(params: Params, ctx: RequestContext) -> Any:
    job_id = params.get_str("id", required=True)
    path = tail.log_path(store().get(job_id), params.get_str("file"), "file")
    return tail.read_job_log(
        path,
        state_of=lambda: store().get(job_id)["state"],
        cursor=tail.parse_cursor(params.get_object("cursor") or None),
        max_bytes=params.get_int("max_bytes", tail.DEFAULT_READ_BYTES, minimum=1),
        wait_s=params.get_float("wait_s", 0.0, minimum=0.0),
        tail_bytes=params.get_int("tail_bytes", None, minimum=0),
        cancelled=ctx.cancelled,
    )


@registry.method("logs.subscribe")
def logs_subscribe(params: Params, ctx: RequestContext) -> Any:
    """Follow a job's log: ``target {job, file?}``, ``cursor``, ``options {tail_bytes}``."""
    target = Params(params.get_object("target"))
    job_id = target.get_str("job", required=True)
    path = tail.log_path(store().get(job_id), target.get_str("file"), "target.file")
    options = Params(params.get_object("options"))
    source = tail.JobLogSource(
        path,
        store().job_dir(job_id),
        state_of=lambda: store().get(job_id)["state"],
        cursor=tail.parse_cursor(params.get_object("cursor") or None),
        tail_bytes=options.get_int("tail_bytes", None, minimum=0),
    )
    assert ctx.streams is not None
    sub = ctx.streams.add(source)
    ctx.after_reply.append(sub.start)
    return {"sub": sub.id, "cursor": source.cursor}


@registry.method("unsubscribe")
def unsubscribe(params: Params, ctx: RequestContext) -> Any:
    assert ctx.streams is not None
    ctx.streams.remove(params.get_str("sub", required=True))
    return {"sub": params.get_str("sub"), "unsubscribed": True}
