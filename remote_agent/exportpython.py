"""The Python an export runs TensorFlow with, its environment, and the argv of both
export processes: the runner (this agent) and ``tfexport`` (the job's Python)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from .jobenv import agent_import_path, job_environment
from .keras import TRAINING_PYTHON_FILE
from .selfpath import agent_location, self_argv
from .statefile import read_json

TFEXPORT_MODULE = __package__ + ".tfexport"


def runner_argv(export_dir: Path) -> list[str]:
    """argv of ``export-run <export dir>`` with this agent's Python and code."""
    return self_argv("export-run", str(export_dir))


def runner_environment() -> dict[str, str]:
    """The agent's environment with its own code first on PYTHONPATH (for ``-m``)."""
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    inherited = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join([agent_location()] + ([inherited] if inherited else []))
    return env


def export_environment(spec: dict[str, Any], job_dir: Path) -> dict[str, str]:
    """The job's environment, with this agent first on PYTHONPATH so ``-m
    remote_agent.tfexport`` imports this version, not one installed for the job's Python.

    The entry is the job's (``agent_import_path``): agent.pyz, or a directory holding
    only the package, so nothing else of the agent's installation shadows the job's own.
    """
    base = read_json(job_dir / "environ.json") or dict(os.environ)
    env = job_environment(spec, {str(k): str(v) for k, v in base.items()}, job_dir)
    agent = agent_import_path(job_dir)
    others = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != agent]
    env["PYTHONPATH"] = os.pathsep.join([agent, *others])
    env["PYTHONUNBUFFERED"] = "1"  # progress lines reach the log as they are printed
    return env


def job_python(
    spec: dict[str, Any], env: dict[str, str], job_dir: Path | None = None
) -> tuple[str | None, str]:
    """(path of the job's Python, or None; how it was chosen, or why none was found).

    The job's ``export.python`` when set (a bare name is looked up on the job's PATH, a
    relative path is taken from the job's cwd), else the Python the job trained with (the
    callback records it: a venv's python run by path is not on the job's PATH), else
    ``python3`` or ``python`` on that PATH.
    """
    path = env.get("PATH", os.defpath)
    wanted = (spec.get("export") or {}).get("python")
    if wanted:
        if "/" in wanted:
            found = os.path.join(spec["cwd"], os.path.expanduser(wanted))
            if os.path.isfile(found) and os.access(found, os.X_OK):
                return found, "the job's export python"
            return None, f"the job's export python {found} is not an executable file"
        which = shutil.which(wanted, path=path)
        if which:
            return which, "the job's export python"
        return None, f"the job's export python {wanted!r} is not on the job's PATH ({path})"
    trained = (read_json(job_dir / TRAINING_PYTHON_FILE) or {}) if job_dir else {}
    recorded = trained.get("python")
    if isinstance(recorded, str) and os.path.isfile(recorded) and os.access(recorded, os.X_OK):
        return recorded, "the Python the job trained with"
    for name in ("python3", "python"):
        which = shutil.which(name, path=path)
        if which:
            return which, f"{name} on the job's PATH"
    return None, (
        f"no python3 or python on the job's PATH ({path}): set the job's export python "
        "(tfdash run --export-python PATH)"
    )


def tfexport_argv(python: str, command: str, request: dict[str, Any]) -> list[str]:
    """argv of one ``tfexport`` step in the job's Python."""
    return [python, "-m", TFEXPORT_MODULE, command, json.dumps(request)]
