"""Job templates: named jobs declared in a project's ``tfdash.toml`` (docs/templates.md).

The file is found by walking up from the current directory, like git finds its
repository, so `tfdash run train` works from anywhere inside the project. Every mistake
is a ConfigError naming the file and the line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from tfdash import config_values as checks
from tfdash.config import HOST_NAME_PATTERN, LOCAL_HOST, check_table
from tfdash.config_lines import Fail, fail_in, read_toml
from tfdash.errors import ConfigError, UsageError
from tfdash.models import JobSpec, LaunchMode

TEMPLATES_FILE = "tfdash.toml"
TEMPLATE_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
EXPORT_KEYS = ("python", "builder", "base", "name")


@dataclass(frozen=True)
class JobTemplate:
    """One ``[jobs.NAME]`` table: a job to launch by name on its host."""

    name: str
    command: str
    host: str = LOCAL_HOST
    cwd: str | None = None
    """Local host: absolute (relative paths were resolved against the file's directory).
    Remote host: as written (relative to the remote $HOME); None: the remote $HOME."""
    env: dict[str, str] = field(default_factory=dict)
    gpus: str | None = None
    mode: LaunchMode = LaunchMode.AUTO
    logdir: str | None = None
    export: dict[str, str] | None = None
    gpu_idle_minutes: int | None = None

    def to_spec(self, overrides: TemplateOverrides | None = None) -> JobSpec:
        """The `jobs.launch` request this template stands for, with ``overrides`` applied:
        the one spec builder of `tfdash run TEMPLATE` and the dashboard's templates."""
        change = overrides or TemplateOverrides()
        export = {**(self.export or {}), **(change.export or {})}
        return JobSpec(
            name=change.name or self.name,
            command=self.command,
            cwd=change.cwd or self.cwd,
            env={**self.env, **change.env},
            mode=change.mode or self.mode,
            gpus=change.gpus if change.gpus is not None else self.gpus,
            logdir=change.logdir if change.logdir is not None else self.logdir,
            export=export or None,
            gpu_idle_minutes=self.gpu_idle_minutes,
        )


@dataclass(frozen=True)
class TemplateOverrides:
    """What the options of `tfdash run` change of a template (None or empty: keep it)."""

    name: str | None = None
    mode: LaunchMode | None = None
    gpus: str | None = None
    logdir: str | None = None
    cwd: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    export: dict[str, str] | None = None


@dataclass(frozen=True)
class TemplateFile:
    """A parsed ``tfdash.toml``: its path and its templates in file order."""

    path: Path
    templates: dict[str, JobTemplate]

    def get(self, name: str) -> JobTemplate:
        """The template ``name``, or a UsageError that lists the ones there are."""
        if name in self.templates:
            return self.templates[name]
        known = ", ".join(self.templates) or "none"
        raise UsageError(f"no template {name!r} in {self.path} (templates: {known})")


def find_templates_file(start: Path | None = None, home: Path | None = None) -> Path | None:
    """The nearest ``tfdash.toml`` in ``start`` (default: the current directory) or above.

    The walk ends at the filesystem root, or, inside ``home`` (default $HOME), at
    ``home`` itself: a file in the directory holding every user's home is nobody's project.
    """
    directory = (start or Path.cwd()).absolute()
    home = (home or Path(os.environ.get("HOME") or Path.home())).absolute()
    ceiling = home.parent if directory.is_relative_to(home) else None
    for candidate in (directory, *directory.parents):
        if candidate == ceiling:
            return None
        if (candidate / TEMPLATES_FILE).is_file():
            return candidate / TEMPLATES_FILE
    return None


def no_templates_message(start: Path | None = None) -> str:
    """What to tell a person when :func:`find_templates_file` found nothing."""
    where = (start or Path.cwd()).absolute()
    return f"no {TEMPLATES_FILE} in {where} or a directory above it (docs/templates.md)"


def load_templates(path: Path) -> TemplateFile:
    """Read and check the templates file at ``path``."""
    try:
        data, text = read_toml(path, "job templates")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: cannot read the job templates: {exc}") from exc
    return parse_templates(data, text, path)


def parse_templates(data: Mapping[str, Any], text: str, path: Path) -> TemplateFile:
    """Check parsed TOML against the schema; errors name ``path`` and the line in ``text``."""
    fail = fail_in(text, path)
    for key in data:
        if key != "jobs":
            raise fail((), key, f"unknown key {key!r} (known: jobs)")
    jobs = data.get("jobs", {})
    if not isinstance(jobs, dict):
        raise fail((), "jobs", "jobs must be a table of [jobs.NAME] sections")
    templates: dict[str, JobTemplate] = {}
    for name, table in jobs.items():
        if not TEMPLATE_NAME_PATTERN.fullmatch(name):
            raise fail(("jobs",), name, f"{name!r} is not a usable template name")
        if not isinstance(table, dict):
            raise fail(("jobs",), name, f"jobs.{name} must be a table")
        templates[name] = parse_template(name, table, path.parent, fail)
    return TemplateFile(path=path, templates=templates)


def parse_template(name: str, table: Mapping[str, Any], base: Path, fail: Fail) -> JobTemplate:
    """One [jobs.NAME] table; a local cwd is resolved against ``base`` (the file's dir).

    ``fail(table_path, key, problem)`` builds the error for a key of any nested table.
    """
    where = ("jobs", name)
    values = check_table(table, TEMPLATE_KEYS, f"jobs.{name}", partial(fail, where))
    if "command" not in values:
        raise fail(where, None, f'jobs.{name} has no command (add: command = "...")')
    for key, value_check in (("env", _env_value), ("export", checks.text)):
        if key in values:
            keys = dict.fromkeys(EXPORT_KEYS if key == "export" else values[key], value_check)
            error_at = partial(fail, (*where, key))
            values[key] = check_table(values[key], keys, f"jobs.{name}.{key}", error_at)
    host = values.setdefault("host", LOCAL_HOST)
    if host == LOCAL_HOST:
        values["cwd"] = str(base / Path(values.get("cwd", ".")).expanduser())
        values["cwd"] = os.path.normpath(values["cwd"])
    return JobTemplate(name=name, **values)


def _host(value: Any) -> str:
    host = checks.text(value)
    if host != LOCAL_HOST and not HOST_NAME_PATTERN.fullmatch(host):
        raise ValueError(f"{host!r} is not a usable host name")
    return host


def _mode(value: Any) -> LaunchMode:
    try:
        return LaunchMode(value)
    except ValueError:
        choices = ", ".join(f'"{mode.value}"' for mode in LaunchMode)
        raise ValueError(f"expected one of {choices}, got {value!r}") from None


def _env_value(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {checks.describe(value)}")
    return value


def _table(value: Any) -> dict[str, Any]:
    """A sub-table, whose keys parse_template checks with their own lines."""
    if not isinstance(value, dict):
        raise ValueError(f"expected a table, got {checks.describe(value)}")
    return value


TEMPLATE_KEYS: dict[str, Callable[[Any], Any]] = {
    "host": _host,
    "cwd": checks.text,
    "command": checks.text,
    "env": _table,
    "gpus": checks.text,
    "mode": _mode,
    "logdir": checks.text,
    "export": _table,
    "gpu_idle_minutes": checks.idle_minutes,
}
"""The keys of a [jobs.NAME] table and how each value is checked and converted."""
