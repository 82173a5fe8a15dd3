"""Typed configuration from ``config.toml``: the hosts to reach over SSH, the log view.

Every mistake is a ConfigError naming the file and the line, because tomllib reports no
positions for what it parsed correctly (we find the line by scanning the text).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from tfdash import config_values as checks
from tfdash import paths
from tfdash.config_lines import fail_in, read_toml
from tfdash.config_ui import UI_KEYS, KeySettings, UiSettings, parse_looks
from tfdash.errors import ConfigError

LOCAL_HOST = "local"
"""The reserved name of the embedded agent (a subprocess of tfdash, no SSH)."""
DEFAULT_SSH_PORT = 2222
DEFAULT_REMOTE_HOME = "~/.tfdash"
DEFAULT_CONNECT_TIMEOUT_S = 10.0
HOST_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*")


class TrustPolicy(enum.StrEnum):
    """What to do with a host key that is not in known_hosts yet (a changed one: refuse)."""

    KNOWN_HOSTS = "known-hosts"
    ACCEPT_NEW = "accept-new"


@dataclass(frozen=True)
class HostConfig:
    """One remote host: where it is, how to log in, where the agent keeps its files."""

    name: str
    host: str
    """An ssh-config alias or a hostname (default: the name)."""
    port: int | None = None
    """None: the ssh config's Port for the alias, else DEFAULT_SSH_PORT."""
    user: str | None = None
    identity: Path | None = None
    python: str | None = None
    """The remote interpreter; None: found on the remote PATH by the bootstrap."""
    tfdash_home: str = DEFAULT_REMOTE_HOME
    trust: TrustPolicy = TrustPolicy.KNOWN_HOSTS
    proxy_jump: str | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S
    configured: bool = True
    """False for a name used on the command line that config.toml does not list."""

    @classmethod
    def alias(cls, name: str) -> HostConfig:
        """A host known only by its ssh-config alias or hostname: every default."""
        return cls(name=name, host=name, configured=False)


@dataclass(frozen=True)
class LogSettings:
    """``[logs]`` (docs/configuration.md): what the log view keeps, where it starts, how
    it shows lines."""

    scrollback_lines: int = 100_000  # kept in memory; older lines are paged in again
    tail_lines: int = 1_000  # shown when a log opens, read from the end of the file
    line_limit: int = 65_536  # bytes shown of a longer line (0: no limit)
    ansi: str = "render"  # or "strip"
    timestamps: bool = False
    wrap: bool = False


@dataclass(frozen=True)
class ScalarSettings:
    """``[scalars]`` (docs/configuration.md): how charts start and what the jobs table shows."""

    smoothing: float = 0.6  # TensorBoard's default; 0 draws the raw points
    x_axis: str = "step"  # or "relative", "wall"
    log_y: bool = False
    ignore_outliers: bool = False
    table_tag: str = "loss"  # regex: the jobs table shows the latest value of the first match


@dataclass(frozen=True)
class AlertSettings:
    """``[alerts]`` (docs/alerts.md): how alerts reach the person, and the GPU idle limit."""

    bell: str = "errors"  # ring the terminal bell for "errors", "all" alerts, or "off"
    notify: bool = True  # show each new alert as a notification
    gpu_idle_minutes: int = 10  # sent with every launch that does not set its own (0: off)


@dataclass(frozen=True)
class Config:
    """The whole configuration; ``path`` is the file it came from (None: defaults)."""

    hosts: dict[str, HostConfig] = field(default_factory=dict)
    logs: LogSettings = field(default_factory=LogSettings)
    scalars: ScalarSettings = field(default_factory=ScalarSettings)
    keys: KeySettings = field(default_factory=KeySettings)
    ui: UiSettings = field(default_factory=UiSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    path: Path | None = None

    def host(self, name: str) -> HostConfig:
        """The configured host ``name``, or an alias-only host with defaults."""
        if name == LOCAL_HOST:
            raise ConfigError(f'"{LOCAL_HOST}" is the embedded agent, not an SSH host')
        return self.hosts.get(name) or HostConfig.alias(name)


def config_path() -> Path:
    """$TFDASH_CONFIG (a file) if set, else ``config.toml`` in the platform config dir."""
    return paths.config_file()


def load_config(path: Path | None = None) -> Config:
    """Read and check ``path`` (default :func:`config_path`); a missing file is empty."""
    path = path or config_path()
    try:
        data, text = read_toml(path, "configuration")
    except FileNotFoundError:
        return Config(path=None)
    return parse_config(data, text, path)


def parse_config(data: Mapping[str, Any], text: str, path: Path) -> Config:
    """Check parsed TOML against the schema; errors name ``path`` and the line in ``text``."""
    fail = fail_in(text, path)
    for key in data:
        if key not in TABLES:
            raise fail((), key, f"unknown key {key!r} (known: {', '.join(TABLES)})")
    hosts_table = data.get("hosts", {})
    if not isinstance(hosts_table, dict):
        raise fail((), "hosts", "hosts must be a table of [hosts.NAME] sections")
    hosts: dict[str, HostConfig] = {}
    for name, table in hosts_table.items():
        if name == LOCAL_HOST:
            raise fail(("hosts",), name, f'"{LOCAL_HOST}" is reserved for the embedded agent')
        if not HOST_NAME_PATTERN.fullmatch(name):
            raise fail(("hosts",), name, f"{name!r} is not a usable host name")
        if not isinstance(table, dict):
            raise fail(("hosts",), name, f"hosts.{name} must be a table")
        hosts[name] = parse_host(name, table, partial(fail, ("hosts", name)))
    settings: dict[str, Any] = {}
    for name, keys, kind in SETTINGS_TABLES:
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise fail((), name, f"{name} must be a table: a [{name}] section")
        settings[name] = kind(**check_table(table, keys, name, partial(fail, (name,))))
    return Config(hosts=hosts, **settings, **parse_looks(data, fail, text, path), path=path)


ErrorAt = Callable[[str | None, str], ConfigError]


def parse_host(name: str, table: Mapping[str, Any], error_at: ErrorAt) -> HostConfig:
    """One [hosts.NAME] table as a HostConfig; ``error_at(key, problem)`` builds errors."""
    values = check_table(table, HOST_KEYS, f"hosts.{name}", error_at)
    values.setdefault("host", name)
    return HostConfig(name=name, **values)


def check_table(
    table: Mapping[str, Any],
    keys: Mapping[str, Callable[[Any], Any]],
    prefix: str,
    error_at: ErrorAt,
) -> dict[str, Any]:
    """The table's values, each checked and converted by ``keys[key]``; no unknown keys."""
    unknown = sorted(set(table) - set(keys))
    if unknown:
        known = ", ".join(keys)
        raise error_at(unknown[0], f"unknown key {unknown[0]!r} in {prefix} (known: {known})")
    values: dict[str, Any] = {}
    for key, value in table.items():
        try:
            values[key] = keys[key](value)
        except ValueError as exc:
            raise error_at(key, f"{prefix}.{key}: {exc}") from None
    return values


def _trust(value: Any) -> TrustPolicy:
    try:
        return TrustPolicy(checks.text(value))
    except ValueError:
        choices = " or ".join(f'"{policy.value}"' for policy in TrustPolicy)
        raise ValueError(f"expected {choices}, got {value!r}") from None


HOST_KEYS: dict[str, Callable[[Any], Any]] = {
    "host": checks.text,
    "port": checks.port,
    "user": checks.text,
    "identity": checks.identity,
    "python": checks.text,
    "tfdash_home": checks.text,
    "trust": _trust,
    "proxy_jump": checks.text,
    "connect_timeout": checks.timeout,
}
"""The keys of a [hosts.NAME] table and how each value is checked and converted."""

LOG_KEYS: dict[str, Callable[[Any], Any]] = {
    "scrollback_lines": checks.count(1),
    "tail_lines": checks.count(0),
    "line_limit": checks.count(0),
    "ansi": checks.ansi,
    "timestamps": checks.flag,
    "wrap": checks.flag,
}
"""The keys of the [logs] table and how each value is checked."""

SCALAR_KEYS: dict[str, Callable[[Any], Any]] = {
    "smoothing": checks.fraction,
    "x_axis": checks.x_axis,
    "log_y": checks.flag,
    "ignore_outliers": checks.flag,
    "table_tag": checks.regex,
}
"""The keys of the [scalars] table and how each value is checked."""


ALERT_KEYS: dict[str, Callable[[Any], Any]] = {
    "bell": checks.bell,
    "notify": checks.flag,
    "gpu_idle_minutes": checks.idle_minutes,
}
"""The keys of the [alerts] table and how each value is checked."""


SETTINGS_TABLES: tuple[tuple[str, Mapping[str, Callable[[Any], Any]], type[Any]], ...] = (
    ("logs", LOG_KEYS, LogSettings),
    ("scalars", SCALAR_KEYS, ScalarSettings),
    ("alerts", ALERT_KEYS, AlertSettings),
)
"""The settings tables after [hosts]: name, keys and checks, the dataclass they fill."""

TABLES = ("hosts", *(name for name, _, _ in SETTINGS_TABLES), "keys", "ui")
"""Every table config.toml may have."""


def accepted_keys() -> dict[str, tuple[str, ...]]:
    """Every key config.toml accepts, by table (``hosts.NAME`` for each host): the list
    docs/configuration.md must cover (tests/unit/test_docs_coverage.py checks it)."""
    tables = {"hosts.NAME": tuple(HOST_KEYS)}
    tables.update((name, tuple(keys)) for name, keys, _ in SETTINGS_TABLES)
    tables["ui"] = UI_KEYS  # [keys] has binding ids as keys: docs/keys.md lists them
    return tables
