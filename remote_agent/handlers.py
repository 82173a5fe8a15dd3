"""The methods the agent answers, registered by name with a decorator (docs/protocol.md)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict

from . import (
    alerts,
    doctor,
    exports,
    gpu,
    gpuhistory,
    gpujobs,
    gpustream,
    hostinfo,
    logopts,
    logpage,
    logpages,
    protocol,
    scalars,
    tail,
)
from .errors import InvalidParams, MethodNotFound, ProtocolMismatch
from .follow import FileCursor
from .jobs import JobStore
from .paths import tfdash_home
from .readahead import ReadAhead
from .streams import StreamManager
from .validate import Params, check_job_id

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
        # Set by the server: this connection's read-ahead pages of ``logs.read``.
        self.readahead: ReadAhead | None = None


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


def _job_log(params: Params, job_field: str, file_field: str) -> tuple[str, Path, bool]:
    """The job id, the log path (``output.log`` or ``file`` under the cwd), whether a
    ``file`` was named."""
    job_id = params.get_str(job_field, required=True)
    file = params.get_str("file")
    return job_id, tail.log_path(store().get(job_id), file, file_field), file is not None


@registry.method("logs.read")
def logs_read(params: Params, ctx: RequestContext) -> Any:
    job_id, path, has_file = _job_log(params, "id", "file")
    encoding = params.get_choice("encoding", logpage.ENCODINGS, logopts.TEXT)
    options = logopts.parse_log_options(params, "", has_file)
    if encoding in logpage.EXACT_BYTES and options.line_limit:
        raise InvalidParams(
            f"line_limit cuts text: leave it 0 with encoding {encoding} (exact bytes)",
            "line_limit",
        )
    cursor = tail.parse_cursor(params.get_object("cursor") or None)
    max_bytes = min(
        params.get_int("max_bytes", tail.DEFAULT_READ_BYTES, minimum=1), tail.MAX_READ_BYTES
    )
    job_dir = store().job_dir(job_id)

    def read(at: FileCursor | None, wait_s: float, cancelled: threading.Event) -> tail.JobLogPage:
        return tail.read_job_log(
            path,
            job_dir,
            state_of=lambda: store().get(job_id)["state"],
            cursor=at,
            options=options,
            max_bytes=max_bytes,
            wait_s=wait_s,
            encoding=encoding,
            cancelled=cancelled,
        )

    # One reader: the same file read the same way; its pages differ only by cursor.
    reader = (job_id, str(path), encoding, max_bytes, options)
    ahead = ctx.readahead
    reply = ahead.take(reader, cursor) if ahead is not None and cursor is not None else None
    if reply is None:
        page = read(cursor, params.get_float("wait_s", 0.0, minimum=0.0), ctx.cancelled)
        reply, full = page.reply, page.more or page.consumed >= max_bytes
    else:
        full = True  # only full pages are read ahead
    if ahead is not None and full and not reply["eof"]:
        after = tail.parse_cursor(reply["cursor"])
        ahead.start(reader, after, lambda cancelled: read(after, 0.0, cancelled).reply)
    return reply


@registry.method("logs.subscribe")
def logs_subscribe(params: Params, ctx: RequestContext) -> Any:
    """Follow a job's log: ``target {job, file?}``, ``cursor``, ``options``."""
    job_id, path, has_file = _job_log(Params(params.get_object("target")), "job", "target.file")
    source = tail.JobLogSource(
        path,
        store().job_dir(job_id),
        state_of=lambda: store().get(job_id)["state"],
        cursor=tail.parse_cursor(params.get_object("cursor") or None),
        options=logopts.parse_log_options(
            Params(params.get_object("options")), "options.", has_file
        ),
    )
    assert ctx.streams is not None
    sub = ctx.streams.add(source)
    ctx.after_reply.append(sub.start)
    return {"sub": sub.id, "cursor": source.cursor}


@registry.method("logs.before")
def logs_before(params: Params, ctx: RequestContext) -> Any:
    """Up to ``lines`` lines before ``cursor``, for scrolling up."""
    _, path, _ = _job_log(params, "id", "file")
    cursor = tail.parse_cursor(params.get_object("cursor") or None)
    if cursor is None:
        raise InvalidParams(
            "missing required param 'cursor': pass the cursor of the first line shown", "cursor"
        )
    lines = params.get_int("lines", None, minimum=1)
    if lines is None:
        raise InvalidParams("missing required param 'lines' (how many lines to read)", "lines")
    line_limit = params.get_int("line_limit", 0, minimum=0)
    return logpages.read_before(path, cursor, lines, line_limit)


@registry.method("logs.files")
def logs_files(params: Params, ctx: RequestContext) -> Any:
    """The followed file's rotated set, oldest first."""
    _, path, _ = _job_log(params, "id", "file")
    return logpages.list_files(path)


@registry.method("scalars.runs")
def scalars_runs(params: Params, ctx: RequestContext) -> Any:
    """The runs under a job's logdir: tags, point counts, files with cursors and bad records."""
    return scalars.runs(store().get(params.get_str("job", required=True)), params, ctx.cancelled)


@registry.method("scalars.read")
def scalars_read(params: Params, ctx: RequestContext) -> Any:
    """A job's scalar series, downsampled to ``width`` buckets (min, max, last) per segment."""
    return scalars.read(store().get(params.get_str("job", required=True)), params, ctx.cancelled)


@registry.method("scalars.points")
def scalars_points(params: Params, ctx: RequestContext) -> Any:
    """A job's raw scalar points after ``cursor``, paged by ``max_points`` (``more``: again)."""
    return scalars.points(store().get(params.get_str("job", required=True)), params, ctx.cancelled)


@registry.method("scalars.subscribe")
def scalars_subscribe(params: Params, ctx: RequestContext) -> Any:
    """New points as they are written: ``target {job, logdir?, run?, tags?}``, ``cursor``."""
    target = Params(params.get_object("target"))
    job = store().get(target.get_str("job", required=True))
    source = scalars.subscribe_source(job, target, params.get_object("cursor"))
    assert ctx.streams is not None
    sub = ctx.streams.add(source)
    ctx.after_reply.append(sub.start)
    return {"sub": sub.id, "cursor": source.cursor}


def _active_gpu_jobs() -> list[gpujobs.JobProcs]:
    return gpujobs.active_jobs(store())


@registry.method("gpu.sample")
def gpu_sample(params: Params, ctx: RequestContext) -> Any:
    """The GPUs now: per-GPU numbers, processes and which job uses which GPU."""
    return gpu.shared_sampler().sample(_active_gpu_jobs)


@registry.method("gpu.history")
def gpu_history(params: Params, ctx: RequestContext) -> Any:
    """A job's GPU samples from its ``gpu.jsonl``, oldest first: ``job``, ``since?``, ``until?``."""
    job_id = check_job_id(params.get_str("job", required=True), "job")
    since, until = params.get_float("since"), params.get_float("until")
    path = store().job_dir(job_id) / gpuhistory.FILE_NAME
    return gpuhistory.read_history(path, job_id, since, until)


@registry.method("gpu.subscribe")
def gpu_subscribe(params: Params, ctx: RequestContext) -> Any:
    """Live samples, one a second: ``target {}``, ``cursor {time}``."""
    params.get_object("target")
    live = gpustream.live_samples(gpu.shared_sampler(), _active_gpu_jobs)
    source = gpustream.GpuSource(live, gpustream.parse_cursor(params.get_object("cursor")))
    assert ctx.streams is not None
    sub = ctx.streams.add(source)
    ctx.after_reply.append(sub.start)
    return {"sub": sub.id, "cursor": source.cursor}


@registry.method("exports.candidates")
def exports_candidates(params: Params, ctx: RequestContext) -> Any:
    """What a job can be exported from: the live model, checkpoints under its cwd."""
    return exports.candidates(store().get(params.get_str("job", required=True)))


@registry.method("exports.start")
def exports_start(params: Params, ctx: RequestContext) -> Any:
    """Start an export (idempotent by ``request_id``; one active export per job)."""
    return exports.start(store().get(params.get_str("job", required=True)), params)


@registry.method("exports.list")
def exports_list(params: Params, ctx: RequestContext) -> Any:
    return {"exports": exports.list_exports(store().get(params.get_str("job", required=True)))}


@registry.method("exports.get")
def exports_get(params: Params, ctx: RequestContext) -> Any:
    job = store().get(params.get_str("job", required=True))
    return exports.get(job, params.get_str("id", required=True))


@registry.method("exports.log")
def exports_log(params: Params, ctx: RequestContext) -> Any:
    """An export's log from byte ``offset``: ``{text, offset, state}``."""
    return exports.read_log(store().get(params.get_str("job", required=True)), params)


_alert_files = alerts.AlertFiles()


@registry.method("alerts.list")
def alerts_list(params: Params, ctx: RequestContext) -> Any:
    """Alerts of every job (or ``job``) after the cursor ``after {job: seq}``, oldest first."""
    after = alerts.parse_after(params.raw.get("after"))
    job = params.get_str("job")
    if job is not None:
        check_job_id(job, "job")
    return _alert_files.list(store().jobs_root, after, job)


@registry.method("doctor.run")
def doctor_run(params: Params, ctx: RequestContext) -> Any:
    """The host's checks (docs/doctor.md): ``job_dir?``, ``export_dir?``, ``timeout_s``."""
    return doctor.run(params, ctx.cancelled)


@registry.method("unsubscribe")
def unsubscribe(params: Params, ctx: RequestContext) -> Any:
    assert ctx.streams is not None
    ctx.streams.remove(params.get_str("sub", required=True))
    return {"sub": params.get_str("sub"), "unsubscribed": True}
