"""Finding the remote Python on a real sshd: errors that say what to do, and the per-host cache."""

from __future__ import annotations

import json
import os
import shlex
import subprocess

import asyncssh
import pytest
from support.ssh_bootstrap import (
    SYSTEM_PYTHON,
    RecordingConnection,
    bootstrap,
    connect,
    hello_over,
    needs_sshd,
)
from support.sshd import SshServer

from tfdash.errors import RemotePythonMissing, RemotePythonTooOld
from tfdash.transport.python_cache import PythonCache
from tfdash.transport.remote_python import PROBE_MARKER, parse_probe_output

pytestmark = needs_sshd

# A real interpreter that says it is Python 3.6.9, as the python3 of an old image would:
# it runs `-c CODE ARGS...` like any python, with sys.version_info set back.
FAKE_OLD_PYTHON = f"""#!/bin/sh
exec {SYSTEM_PYTHON} -c '
import sys
sys.version_info = (3, 6, 9, "final", 0)
del sys.argv[:2]
code = sys.argv.pop(0)
sys.argv.insert(0, "-c")
exec(code, {{"__name__": "__main__"}})
' "$@"
"""


async def test_a_python_older_than_3_8_is_refused_by_version_and_path(
    bootstrap_conn: asyncssh.SSHClientConnection,
    bootstrap_sshd: SshServer,
    remote_tfdash_home: str,
    bootstrap_cache: PythonCache,
) -> None:
    fake = bootstrap_sshd.root / "python3.6"
    fake.write_text(FAKE_OLD_PYTHON)
    fake.chmod(0o755)
    with pytest.raises(RemotePythonTooOld) as caught:
        await bootstrap(
            bootstrap_conn,
            remote_tfdash_home,
            bootstrap_cache,
            python=str(fake),
            cache_key="old",
            host_label="old-image",
        )
    message = str(caught.value)
    assert message.startswith(f"old-image: {fake} ({SYSTEM_PYTHON}) is Python 3.6.9;")
    assert not caught.value.retryable
    assert bootstrap_cache.lookup("old", str(fake)) is None


async def test_a_configured_python_that_does_not_exist_is_missing(
    bootstrap_conn: asyncssh.SSHClientConnection,
    remote_tfdash_home: str,
    bootstrap_cache: PythonCache,
) -> None:
    with pytest.raises(RemotePythonMissing) as caught:
        await bootstrap(
            bootstrap_conn,
            remote_tfdash_home,
            bootstrap_cache,
            python="/nonexistent",
            host_label="gpu-box",
        )
    message = str(caught.value)
    assert message.startswith("no python at /nonexistent on gpu-box (")
    assert 'set python = "/path"' in message
    assert not caught.value.retryable


async def test_no_python_on_the_path_is_missing(
    bootstrap_sshd_without_python: SshServer,
    remote_tfdash_home: str,
    bootstrap_cache: PythonCache,
) -> None:
    async with await connect(bootstrap_sshd_without_python) as connection:
        with pytest.raises(RemotePythonMissing) as caught:
            await bootstrap(connection, remote_tfdash_home, bootstrap_cache, host_label="bare-box")
    assert str(caught.value) == (
        'no python3 on bare-box: install python3 >= 3.8 or set python = "/path" for this '
        "host in config.toml"
    )


async def test_the_cache_remembers_the_python_so_later_connects_skip_the_search(
    bootstrap_sshd: SshServer, remote_tfdash_home: str, bootstrap_cache: PythonCache
) -> None:
    commands: list[list[str]] = []
    for _ in range(2):
        async with await connect(bootstrap_sshd) as connection:
            recorder = RecordingConnection(connection)
            await bootstrap(recorder, remote_tfdash_home, bootstrap_cache, cache_key="remembered")
            commands.append([c for c in recorder.commands if c != "<sftp>"])
    assert "command -v" in commands[0][0]
    assert len(commands[1]) == 1
    assert commands[1][0].startswith(shlex.quote(SYSTEM_PYTHON) + " -c ")
    saved = json.loads(bootstrap_cache.path.read_text())["hosts"]["remembered"]
    assert (saved["python"], saved["configured"]) == (SYSTEM_PYTHON, None)


async def test_a_remembered_python_that_stopped_working_is_searched_again(
    bootstrap_conn: asyncssh.SSHClientConnection,
    remote_tfdash_home: str,
    bootstrap_cache: PythonCache,
) -> None:
    bootstrap_cache.remember("moved", None, "/opt/removed/bin/python3", "3.10.4")
    command = await bootstrap(
        bootstrap_conn, remote_tfdash_home, bootstrap_cache, cache_key="moved"
    )
    assert command.python == SYSTEM_PYTHON
    assert bootstrap_cache.lookup("moved", None) == SYSTEM_PYTHON


async def test_a_virtualenv_python_stays_the_virtualenv_python(
    bootstrap_conn: asyncssh.SSHClientConnection,
    bootstrap_sshd: SshServer,
    remote_tfdash_home: str,
    bootstrap_cache: PythonCache,
) -> None:
    """sys.executable, not its realpath: the venv's packages must stay visible to the agent."""
    venv_python = bootstrap_sshd.root / "venv" / "bin" / "python"
    subprocess.run(
        [SYSTEM_PYTHON, "-m", "venv", "--without-pip", str(venv_python.parent.parent)],
        check=True,
    )
    command = await bootstrap(
        bootstrap_conn,
        remote_tfdash_home,
        bootstrap_cache,
        python=str(venv_python),
        cache_key="venv",
    )
    assert os.path.realpath(venv_python) != str(venv_python)
    assert command.python == str(venv_python)
    assert command.argv[2] == str(venv_python)
    hello = await hello_over(bootstrap_conn, command)
    assert hello["python"]["executable"] == str(venv_python)


def test_the_probe_line_is_found_among_login_script_noise() -> None:
    answer = {"executable": "/usr/bin/python3", "version": [3, 8, 10], "home": "/h", "agent": True}
    stdout = f"Welcome!\n{PROBE_MARKER}{json.dumps(answer)}\nbye\n"
    found = parse_probe_output(stdout)
    assert found is not None
    assert (found.executable, found.version_text, found.agent_present) == (
        "/usr/bin/python3",
        "3.8.10",
        True,
    )
    assert parse_probe_output("Welcome!\n") is None
    assert parse_probe_output(PROBE_MARKER + "{not json\n") is None
