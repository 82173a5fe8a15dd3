"""What each package loads: the agent stands alone, and tfdash's lower layers skip Textual.

The agent is uploaded to containers that have none of tfdash's dependencies, so it must
run on the standard library alone and never load the UI, SSH or ML libraries, not even
optionally. Each check runs in a fresh interpreter so nothing this test process imported
can hide a problem. Modules are found with pkgutil, so new ones are covered by themselves.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pkgutil
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from remote_agent import protocol

REPO = Path(__file__).resolve().parents[2]
AGENT_DIR = REPO / "remote_agent"
TFDASH_DIR = REPO / "tfdash"
FORBIDDEN_IN_AGENT = ("tfdash", "textual", "asyncssh", "rich", "tensorflow", "numpy")

# Imports every remote_agent module (walked with pkgutil inside the child) and prints, as
# JSON, what failed to import and which forbidden top-level packages ended up loaded.
IMPORT_ALL_AGENT_MODULES = """
import importlib, json, pkgutil, sys
import remote_agent
names = ["remote_agent"] + [
    info.name for info in pkgutil.walk_packages(remote_agent.__path__, "remote_agent.")
]
failed = {}
for name in names:
    try:
        importlib.import_module(name)
    except Exception as error:  # reported to the test, which fails on it
        failed[name] = repr(error)
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))
print(json.dumps({"modules": names, "failed": failed, "loaded": loaded}))
"""

# Serves requests from stdin in-process, then reports the forbidden packages loaded while
# answering them (on stderr: the agent points fd 1 at stderr while it serves).
SERVE_THEN_REPORT = """
import json, sys
from remote_agent.__main__ import main
code = main(["serve"])
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))
sys.stderr.write("LOADED " + json.dumps(loaded) + "\\n")
sys.exit(code)
"""


def require_agent() -> None:
    """Fail with a clear message while the agent package is still being written."""
    if not (AGENT_DIR / "__main__.py").exists() or not (AGENT_DIR / "server.py").exists():
        pytest.fail("remote_agent has no server yet (remote_agent/__main__.py, server.py)")


def child_env(tmp_path: Path) -> dict[str, str]:
    """Only the repository on the import path; the agent's state in a temporary home."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "TFDASH_HOME": str(tmp_path / "home"),
        "TMUX_TMPDIR": str(tmp_path),
    }


def run_python(
    args: list[str], env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        input=stdin,
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def hello_request() -> str:
    message = {"jsonrpc": "2.0", "id": 1, "method": "hello", "params": {"protocol": 1}}
    return json.dumps(message) + "\n"


def test_agent_modules_import_without_site_packages(tmp_path: Path) -> None:
    require_agent()
    script = "import importlib.util, sys\n"
    script += "assert importlib.util.find_spec('textual') is None, 'site-packages visible'\n"
    script += IMPORT_ALL_AGENT_MODULES
    result = run_python(["-S", "-c", script, *FORBIDDEN_IN_AGENT], child_env(tmp_path))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "remote_agent.server" in report["modules"]
    assert report["failed"] == {}, "agent modules that need more than the standard library"
    assert report["loaded"] == []


def test_agent_loads_no_forbidden_package_even_when_installed(tmp_path: Path) -> None:
    """With the full venv on the path an optional import would succeed: none may happen."""
    require_agent()
    assert importlib.util.find_spec("textual"), "needs the dev environment (textual installed)"
    result = run_python(["-c", IMPORT_ALL_AGENT_MODULES, *FORBIDDEN_IN_AGENT], child_env(tmp_path))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["failed"] == {}
    assert report["loaded"] == [], f"remote_agent loaded {report['loaded']}"


def test_agent_serves_hello_without_site_packages(tmp_path: Path) -> None:
    require_agent()
    result = run_python(
        ["-S", "-m", "remote_agent", "serve"], child_env(tmp_path), stdin=hello_request()
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, f"stdout must hold only protocol lines: {result.stdout!r}"
    reply: dict[str, Any] = json.loads(lines[0])
    assert reply["id"] == 1 and "error" not in reply, reply
    hello = reply["result"]
    assert hello["protocol_version"] == protocol.PROTOCOL_VERSION
    assert hello["python"]["version"] == platform.python_version()
    assert hello["tfdash_home"] == str(tmp_path / "home")


def test_answering_hello_loads_no_forbidden_package(tmp_path: Path) -> None:
    """hello probes TensorFlow, NVML and tmux: by metadata and PATH, never by importing."""
    require_agent()
    result = run_python(
        ["-c", SERVE_THEN_REPORT, *FORBIDDEN_IN_AGENT], child_env(tmp_path), hello_request()
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["result"]["protocol_version"] == protocol.PROTOCOL_VERSION
    report = [line for line in result.stderr.splitlines() if line.startswith("LOADED ")]
    assert report, result.stderr
    assert json.loads(report[-1].removeprefix("LOADED ")) == []


def tfdash_non_ui_modules() -> list[str]:
    """The modules below the UI, plus the CLI (which must import Textual lazily)."""
    names = ["tfdash.models", "tfdash.errors", "tfdash.cli"]
    names += [
        f"tfdash.{name}" for name in ("config", "paths") if (TFDASH_DIR / f"{name}.py").exists()
    ]
    for package in ("transport", "services"):
        names.append(f"tfdash.{package}")
        path = str(TFDASH_DIR / package)
        names += [f"tfdash.{package}.{info.name}" for info in pkgutil.iter_modules([path])]
    return names


@pytest.mark.parametrize("module", tfdash_non_ui_modules())
def test_tfdash_module_does_not_import_textual(module: str, tmp_path: Path) -> None:
    forbidden = ["textual"] if module == "tfdash.cli" else ["textual", "rich"]
    script = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:]))))\n"
    )
    result = run_python(["-c", script, *forbidden], {**os.environ, "TFDASH_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [], f"importing {module} loads {result.stdout.strip()}"


def test_the_walk_finds_the_transport_and_service_modules() -> None:
    """Guards the parametrization above: an empty walk would check nothing."""
    modules = tfdash_non_ui_modules()
    assert "tfdash.transport.rpc" in modules
    assert "tfdash.services.jobs" in modules
