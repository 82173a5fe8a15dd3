"""A job tfdash launched can import the agent (``remote_agent.keras``) with nothing installed.

The agent's own location goes on the job's PYTHONPATH after the job's own entries: a
directory holding only a link to the package (never the directory it is installed in), or
agent.pyz itself, which zipimport serves. ``-S`` keeps site-packages (and the editable
install of this repository) out, so only that entry can provide the import.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.agent import AgentProcess

from tfdash.transport.agent_archive import build_archive

PRINT_AGENT = (
    "import os, remote_agent.keras as k; print(os.environ['PYTHONPATH']); print(k.__file__)"
)


def test_a_job_imports_the_agent_after_its_own_pythonpath(
    agent: AgentProcess, tmp_path: Path
) -> None:
    job = agent.call(
        "jobs.launch",
        {
            "name": "path",
            "command": f'{sys.executable} -S -c "{PRINT_AGENT}"',
            "mode": "nohup",
            "cwd": str(tmp_path),
            "env": {"PYTHONPATH": "/nonexistent/first"},
        },
    )
    done = agent.wait_final(str(job["id"]))
    log = agent.read_log(str(job["id"]))
    assert done["state"] == "succeeded", log
    links = Path(str(job["job_dir"])) / "pythonpath"
    assert log.splitlines() == [
        f"/nonexistent/first{os.pathsep}{links}",
        str(links / "remote_agent" / "keras.py"),
    ]
    # Only the package is linked: nothing else of the directory it lives in is visible.
    assert [p.name for p in links.iterdir()] == ["remote_agent"]
    assert (links / "remote_agent").resolve() == Path(__file__).resolve().parents[2] / (
        "remote_agent"
    )


def test_a_job_of_an_agent_run_from_its_zipapp_imports_from_the_zipapp(tmp_path: Path) -> None:
    archive = tmp_path / "agent.pyz"
    archive.write_bytes(build_archive().data)
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    environment = (
        "import json, sys; from pathlib import Path; "
        "from remote_agent.jobenv import job_environment; "
        "env = job_environment({'id': 'j'}, {'PYTHONPATH': 'own'}, Path(sys.argv[1])); "
        "print(env['PYTHONPATH'])"
    )
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    found = subprocess.run(
        [sys.executable, "-S", "-c", environment, str(job_dir)],
        env={**clean, "PYTHONPATH": str(archive)},
        cwd=tmp_path,  # not the repository, which would provide remote_agent itself
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert found.stdout.strip() == f"own{os.pathsep}{archive}"
    assert not (job_dir / "pythonpath").exists()
    imported = subprocess.run(
        [sys.executable, "-S", "-c", PRINT_AGENT],
        env={**clean, "PYTHONPATH": found.stdout.strip()},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert imported.stdout.splitlines()[1] == str(archive / "remote_agent" / "keras.py")
