"""HostSessions from the configuration: local first, then every host; aliases on demand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tfdash.config import Config, HostConfig
from tfdash.transport.hosts import SSH_PING_INTERVAL_S, build_manager, session_for
from tfdash.transport.local import LocalTransport
from tfdash.transport.ssh import SshHooks, SshTransport
from tfdash.transport.ssh_connect import parse_jumps


def test_the_manager_has_local_then_the_configured_hosts_in_order(tmp_path: Path) -> None:
    hosts = {name: HostConfig(name=name, host=f"{name}.lab") for name in ("zeta", "alpha")}
    hooks = SshHooks()
    manager = build_manager(Config(hosts=hosts), local_home=tmp_path, hooks=hooks)
    assert [session.name for session in manager.sessions] == ["local", "zeta", "alpha"]
    local = manager.get("local").transport
    assert isinstance(local, LocalTransport) and local.tfdash_home == tmp_path
    zeta = manager.get("zeta")
    assert isinstance(zeta.transport, SshTransport)
    assert zeta.transport.host is hosts["zeta"]
    assert zeta.transport.hooks is hooks
    assert zeta.reconnect and zeta.ping_interval == SSH_PING_INTERVAL_S


def test_a_name_the_config_lacks_becomes_an_ssh_alias_session() -> None:
    session = session_for("lab-box", Config(), reconnect=False)
    assert isinstance(session.transport, SshTransport)
    assert session.transport.host == HostConfig.alias("lab-box")
    assert session.transport.host.port is None  # ~/.ssh/config's Port, else 2222
    assert not session.reconnect


def test_the_cli_and_a_local_session_do_not_import_asyncssh() -> None:
    """asyncssh costs ~0.2 s to import: commands on the local host must not pay it."""
    probe = (
        "import sys, tfdash.cli\n"
        "from tfdash.config import Config\n"
        "from tfdash.transport.hosts import session_for\n"
        "session_for('local', Config())\n"
        "print(sorted(m for m in sys.modules if m.startswith('asyncssh')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_proxyjump_values_are_split_and_none_means_direct() -> None:
    assert parse_jumps("bastion") == ("bastion",)
    assert parse_jumps("me@a:2200, b") == ("me@a:2200", "b")
    assert parse_jumps("none") == parse_jumps("") == parse_jumps(None) == ()
