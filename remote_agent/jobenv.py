"""A job's environment: the agent's, the job's own variables, its GPUs and tfdash's, with
this agent importable (``from remote_agent.keras import ExportOnRequest``) and nothing
else of the agent's Python on the job's path."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from .selfpath import agent_archive, package_dir

log = logging.getLogger("remote_agent.jobenv")


def job_environment(spec: dict[str, Any], base: dict[str, str], job_dir: Path) -> dict[str, str]:
    """The command's environment: the agent's, the job's own, GPUs and tfdash's variables."""
    env = dict(base)
    env["PYTHONUNBUFFERED"] = "1"  # Python output reaches the log as it is printed
    env.update(spec.get("env") or {})
    if env.get("PYTHONUNBUFFERED") == "":
        del env["PYTHONUNBUFFERED"]
    if spec.get("gpus") is not None:
        env["CUDA_VISIBLE_DEVICES"] = spec["gpus"]
    env["TFDASH_LAUNCH_PATH"] = env.get("PATH", "")
    env["TFDASH_JOB_ID"] = spec["id"]
    env["TFDASH_JOB_DIR"] = str(job_dir)
    # `from remote_agent.keras import ExportOnRequest` works in the job with nothing
    # installed; the job's own PYTHONPATH entries stay in front.
    own = env.get("PYTHONPATH", "")
    agent = agent_import_path(job_dir)
    if agent not in own.split(os.pathsep):
        env["PYTHONPATH"] = own + os.pathsep + agent if own else agent
    return env


def agent_import_path(job_dir: Path) -> str:
    """What a job puts on sys.path to import this agent: agent.pyz itself (zipimport serves
    it), or ``<job dir>/pythonpath`` holding only a link to the package. Never the directory
    the package is installed in: its other packages, built for the agent's Python, would
    shadow the job's own (a venv's numpy in front of a conda Python's)."""
    archive = agent_archive()
    if archive:
        return archive
    package = package_dir()
    links = job_dir / "pythonpath"
    link = links / package.name
    try:
        if not (link.is_symlink() and os.readlink(str(link)) == str(package)):
            links.mkdir(mode=0o700, exist_ok=True)
            if link.is_symlink():
                link.unlink()
            link.symlink_to(package, target_is_directory=True)
    except OSError as e:
        log.warning(
            "cannot link %s into %s (%s): the job imports it from its parent", package, links, e
        )
        return str(package.parent)
    return str(links)
