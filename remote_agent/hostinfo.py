"""What `hello` reports about this host: versions, identity and optional capabilities."""

from __future__ import annotations

import getpass
import importlib.util
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from typing import Any

from . import __version__, protocol
from .paths import tfdash_home

_TF_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tf-nightly")
_cache: dict[str, Any] = {}


def tmux_version() -> str | None:
    """tmux's version ("3.3a"), or None when tmux is not installed or does not run."""
    if "tmux" not in _cache:
        version = None
        path = shutil.which("tmux")
        if path:
            try:
                out = subprocess.run(
                    [path, "-V"],
                    check=False,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    timeout=5,
                ).stdout.decode("utf-8", "replace")
                version = out.strip().split()[-1] if out.strip() else "unknown"
            except (OSError, subprocess.SubprocessError):
                version = None
        _cache["tmux"] = version
    value: str | None = _cache["tmux"]
    return value


def _importable(name: str) -> bool:
    """Whether top-level module ``name`` can be imported, without importing it.

    Plain directories and zip archives on sys.path are looked at directly: zipimport's
    find_spec compiles the module to answer (60 ms for pynvml inside agent.pyz).
    """
    for entry in sys.path:
        if os.path.isdir(entry or "."):
            base = os.path.join(entry or ".", name)
            if os.path.isfile(base + ".py") or os.path.isfile(os.path.join(base, "__init__.py")):
                return True
        elif zipfile.is_zipfile(entry):
            names = _zip_names(entry)
            if name + ".py" in names or name + "/__init__.py" in names:
                return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _zip_names(path: str) -> set[str]:
    key = "zip:" + path
    if key not in _cache:
        with zipfile.ZipFile(path) as archive:
            _cache[key] = set(archive.namelist())
    names: set[str] = _cache[key]
    return names


def tensorflow_version() -> str | None:
    """The installed TensorFlow version from package metadata: TensorFlow is never imported."""
    try:
        from importlib import metadata
    except ImportError:  # pragma: no cover - Python < 3.8
        return None
    for dist in _TF_DISTRIBUTIONS:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def capabilities() -> dict[str, Any]:
    return {
        "tmux": tmux_version(),
        "nvml": _importable("pynvml"),
        "nvidia_smi": shutil.which("nvidia-smi"),
        "tensorboard": _importable("tensorboard") and _importable("google.protobuf"),
        "tensorflow": tensorflow_version(),
    }


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def hello_result() -> dict[str, Any]:
    return {
        "agent_version": __version__,
        "protocol_version": protocol.PROTOCOL_VERSION,
        "python": {
            "version": platform.python_version(),
            "executable": sys.executable,
            "implementation": platform.python_implementation(),
        },
        "hostname": socket.gethostname(),
        "user": _user(),
        "pid": os.getpid(),
        "time": time.time(),
        "tfdash_home": str(tfdash_home()),
        "capabilities": capabilities(),
    }
