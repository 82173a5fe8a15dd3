"""Plain data shared by the transport, services, UI and CLI (no I/O, no Textual)."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any

from remote_agent import protocol


class JobState(enum.StrEnum):
    STARTING = protocol.STATE_STARTING
    RUNNING = protocol.STATE_RUNNING
    SUCCEEDED = protocol.STATE_SUCCEEDED
    FAILED = protocol.STATE_FAILED
    STOPPED = protocol.STATE_STOPPED
    LOST = protocol.STATE_LOST

    @property
    def is_active(self) -> bool:
        return self.value in protocol.ACTIVE_STATES


class LaunchMode(enum.StrEnum):
    TMUX = protocol.MODE_TMUX
    NOHUP = protocol.MODE_NOHUP
    AUTO = protocol.MODE_AUTO


@dataclass(frozen=True)
class Job:
    """A job as the agent reports it (docs/protocol.md, "The job object")."""

    id: str
    name: str
    command: str
    cwd: str
    state: JobState
    mode: str
    env: dict[str, str] = field(default_factory=dict)
    gpus: str | None = None
    logdir: str | None = None
    """The job's TensorBoard logdir (relative to its cwd); None: the agent's default."""
    pid: int | None = None
    pgid: int | None = None
    supervisor_pid: int | None = None
    created_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    exit_code: int | None = None
    signal: str | None = None
    error: str | None = None
    stop_requested_at: float | None = None
    tmux_session: str | None = None
    tmux_socket: str | None = None
    """The socket of the tmux server running ``tmux_session`` (None: the default one)."""
    job_dir: str = ""
    log_path: str = ""
    request_id: str | None = None
    export: dict[str, str] | None = None
    """The job's export settings (python, builder, base, name), if it was given any."""

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Job:
        names = cls.__dataclass_fields__
        values = {k: v for k, v in data.items() if k in names}
        values["state"] = JobState(data["state"])
        values["env"] = dict(data.get("env") or {})
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """The job as printed by `tfdash jobs --json`."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["state"] = self.state.value
        return out

    def runtime(self, now: float | None = None) -> float | None:
        """Seconds the command has run (so far, if it still runs)."""
        if self.started_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else (now or time.time())
        return max(0.0, end - self.started_at)


@dataclass(frozen=True)
class JobSpec:
    """What a person asks to launch; ``to_wire`` gives `jobs.launch` params."""

    name: str
    command: str
    cwd: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    mode: LaunchMode = LaunchMode.AUTO
    gpus: str | None = None
    logdir: str | None = None
    log_max_bytes: int | None = None
    log_backups: int | None = None
    export: dict[str, str] | None = None
    """How the job's model is exported: ``python``, ``builder`` ("module:function"),
    ``base``, ``name`` (docs/export.md); None: the agent's defaults."""
    gpu_idle_minutes: int | None = None
    """Minutes of idle GPUs before the ``gpu_idle`` alert (0: off); None: the agent's 10."""

    def to_wire(self, request_id: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "request_id": request_id,
            "name": self.name,
            "command": self.command,
            "env": dict(self.env),
            "mode": self.mode.value,
        }
        if self.cwd is not None:
            params["cwd"] = self.cwd
        if self.gpus is not None:
            params["gpus"] = self.gpus
        if self.logdir is not None:
            params["logdir"] = self.logdir
        log: dict[str, int] = {}
        if self.log_max_bytes is not None:
            log["max_bytes"] = self.log_max_bytes
        if self.log_backups is not None:
            log["backups"] = self.log_backups
        if log:
            params["log"] = log
        if self.export:
            params["export"] = dict(self.export)
        if self.gpu_idle_minutes is not None:
            params["gpu_idle_minutes"] = self.gpu_idle_minutes
        return params


@dataclass(frozen=True)
class Alert:
    """An alert a job's supervisor raised (docs/alerts.md), with the host it came from."""

    host: str
    job: str
    seq: int
    time: float
    kind: str
    severity: str
    """``info``, ``warning`` or ``error``."""
    message: str
    detail: str | None = None

    @classmethod
    def from_wire(cls, data: dict[str, Any], host: str) -> Alert:
        return cls(
            host=host,
            job=str(data["job"]),
            seq=int(data["seq"]),
            time=float(data["time"]),
            kind=str(data["kind"]),
            severity=str(data["severity"]),
            message=str(data["message"]),
            detail=data.get("detail"),
        )

    def to_json(self) -> dict[str, Any]:
        """The alert as printed by `tfdash alerts --json`."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Capabilities:
    tmux: str | None = None
    nvml: bool = False
    nvidia_smi: str | None = None
    tensorboard: bool = False
    tensorflow: str | None = None


@dataclass(frozen=True)
class HostInfo:
    """The agent's answer to `hello`."""

    agent_version: str
    protocol_version: int
    python_version: str
    python_executable: str
    hostname: str
    user: str
    tfdash_home: str
    capabilities: Capabilities
    agent_pid: int | None = None
    time: float | None = None

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> HostInfo:
        caps = data.get("capabilities") or {}
        python = data.get("python") or {}
        return cls(
            agent_version=str(data.get("agent_version", "?")),
            protocol_version=int(data.get("protocol_version", 0)),
            python_version=str(python.get("version", "?")),
            python_executable=str(python.get("executable", "?")),
            hostname=str(data.get("hostname", "?")),
            user=str(data.get("user", "?")),
            tfdash_home=str(data.get("tfdash_home", "")),
            capabilities=Capabilities(
                tmux=caps.get("tmux"),
                nvml=bool(caps.get("nvml")),
                nvidia_smi=caps.get("nvidia_smi"),
                tensorboard=bool(caps.get("tensorboard")),
                tensorflow=caps.get("tensorflow"),
            ),
            agent_pid=data.get("pid"),
            time=data.get("time"),
        )


@dataclass(frozen=True)
class LogCursor:
    """Where a log read stopped: the file (inode, and a fingerprint of its first bytes,
    which finds it again after logrotate compressed or copied it) and the byte offset."""

    inode: int
    offset: int
    head_sha1: str | None = None
    head_bytes: int = 0

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"inode": self.inode, "offset": self.offset}
        if self.head_sha1 is not None:
            wire["head_sha1"] = self.head_sha1
            wire["head_bytes"] = self.head_bytes
        return wire

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> LogCursor:
        head = data.get("head_sha1")
        return cls(
            inode=int(data["inode"]),
            offset=int(data["offset"]),
            head_sha1=str(head) if head is not None else None,
            head_bytes=int(data.get("head_bytes") or 0),
        )


@dataclass(frozen=True)
class LogCut:
    """Where the agent cut a segment longer than ``line_limit`` out of a chunk's text.

    ``at`` indexes the chunk's text (in characters) where the skipped bytes were;
    ``line`` is the cursor of the start of the line that holds the cut, from which
    ``read_line`` reads the whole line again.
    """

    at: int
    line: LogCursor

    @classmethod
    def from_wire(cls, data: dict[str, Any], shift: int = 0) -> LogCut:
        """A wire cut; ``shift`` moves ``at`` when its text is joined after others."""
        return cls(at=int(data["at"]) + shift, line=LogCursor.from_wire(data["line"]))


def cuts_from_wire(items: list[dict[str, Any]] | None, shift: int = 0) -> tuple[LogCut, ...]:
    """The ``cuts`` of a reply or stream item (absent or empty: none)."""
    return tuple(LogCut.from_wire(item, shift) for item in items or ())


@dataclass(frozen=True)
class LogChunk:
    """Lines of a job's output and the cursor after them.

    The text holds whole lines, except when the follower was asked for ``partial``
    output: then it may end mid-line and the next chunk continues that line.
    ``job_state`` is known for reads and for the last chunk of a followed log (None
    while a stream runs); ``gap`` says why lines before this chunk are missing, if they
    are; ``reconnected`` marks the first chunk after the stream resumed on a new link;
    ``time`` is when the agent read the text (streams only); ``cuts`` are the places
    where over-long segments were cut (``line_limit``).
    """

    text: str
    cursor: LogCursor
    eof: bool
    job_state: JobState | None
    gap: str | None = None
    reconnected: bool = False
    time: float | None = None
    cuts: tuple[LogCut, ...] = ()


class HostState(enum.StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"


@dataclass(frozen=True)
class HostStatus:
    """What the UI shows about one host's connection."""

    name: str
    state: HostState
    message: str = ""
    attempt: int = 0
    retry_at: float | None = None
    info: HostInfo | None = None
    connected_at: float | None = None
    last_data_at: float | None = None
