"""What `tfdash demo` launches: the repo's Keras example as a job on the local host."""

from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
import sys
from pathlib import Path

import tfdash
from tfdash.errors import UsageError
from tfdash.models import JobSpec, LaunchMode

DEMO_JOB_NAME = "keras-quickstart"
EXAMPLE_RELATIVE_PATH = Path("examples", "keras_quickstart", "train.py")


def find_example_script() -> Path:
    """The example training script of the source checkout tfdash runs from."""
    package_dir = Path(tfdash.__file__).resolve().parent
    script = package_dir.parent / EXAMPLE_RELATIVE_PATH
    if not script.is_file():
        raise UsageError(
            f"the demo needs {EXAMPLE_RELATIVE_PATH}, which is not next to this tfdash "
            f"({package_dir}); run the demo from a source checkout: clone the tfdash "
            "repository and run `./dev.sh demo` (or `pip install -e '.[tf]'` there)"
        )
    return script


def tensorflow_available(python: str) -> bool:
    """Whether ``python`` can import tensorflow (without importing it: that takes seconds)."""
    if python == sys.executable:
        return importlib.util.find_spec("tensorflow") is not None
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('tensorflow') is None)"
    try:
        completed = subprocess.run([python, "-c", probe], capture_output=True, check=False)
    except OSError:
        return False
    return completed.returncode == 0


def demo_spec(script: Path, workdir: Path, epochs: int) -> JobSpec:
    """The demo job: this interpreter runs ``script`` in ``workdir``.

    The interpreter's absolute path goes into the command because the agent runs it with
    ``bash -lc``, whose /etc/profile resets PATH on Debian and would lose the venv.
    """
    python = os.path.abspath(sys.executable)  # not resolve(): a venv's python is a symlink
    command = " ".join(
        [
            shlex.quote(python),
            "-u",
            shlex.quote(str(script)),
            "--epochs",
            str(int(epochs)),
            "--logdir",
            "logs",
            "--checkpoint-dir",
            "checkpoints",
        ]
    )
    return JobSpec(
        name=DEMO_JOB_NAME,
        command=command,
        cwd=str(workdir),
        mode=LaunchMode.AUTO,
        logdir="logs",
    )
