"""The client side of the SSH tests: a private HOME with ~/.ssh, host entries, checks.

asyncssh follows $HOME for ~/.ssh (config, known_hosts, keys); OpenSSH does not, which is
why the tests drive tfdash (asyncssh) and read OpenSSH's own output only for fingerprints.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.sshd import SshServer
from tfdash.config import HostConfig

REPO = Path(__file__).resolve().parents[2]
ServerFactory = Callable[..., SshServer]
"""The ``start_sshd`` fixture: starts an SshServer with the given options."""


@dataclass
class ClientSide:
    """The laptop's side: HOME with ~/.ssh, and tfdash's config file."""

    home: Path
    config_path: Path

    @property
    def ssh_dir(self) -> Path:
        return self.home / ".ssh"

    @property
    def known_hosts(self) -> Path:
        return self.ssh_dir / "known_hosts"

    def trust(self, server: SshServer, port: int | None = None) -> None:
        """Record the server's host key for 127.0.0.1 (at ``port``, default its own)."""
        with self.known_hosts.open("a") as known_hosts:
            known_hosts.write(known_line(server, port or server.port))

    def write_ssh_config(self, text: str) -> None:
        path = self.ssh_dir / "config"
        path.write_text(text)
        path.chmod(0o600)

    def write_tfdash_config(self, text: str) -> None:
        self.config_path.write_text(text)

    def overrides(self) -> dict[str, str]:
        """What differs from the test process's environment on this client side."""
        return {
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "TFDASH_CONFIG": str(self.config_path),
            "TFDASH_HOME": str(self.home / "local-tfdash-home"),
        }

    def environment(self) -> dict[str, str]:
        """The environment of a `tfdash` subprocess: no ssh-agent, this HOME, this repo."""
        env = {key: value for key, value in os.environ.items() if key != "SSH_AUTH_SOCK"}
        return env | self.overrides() | {"PYTHONPATH": str(REPO)}


def known_line(server: SshServer, port: int) -> str:
    return f"[127.0.0.1]:{port} ssh-ed25519 {server.host_public_key}\n"


def remote_home(server: SshServer) -> Path:
    """The TFDASH_HOME the agent uses on ``server`` (inside the server's directory)."""
    return server.root / "tfdash-home"


def host_config(server: SshServer, name: str = "box", **overrides: Any) -> HostConfig:
    """A host entry that logs in to ``server`` with its client key."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port,
        "user": server.user,
        "identity": server.client_key,
        "tfdash_home": str(remote_home(server)),
    }
    return HostConfig(name=name, **(values | overrides))


def connections_logged(server: SshServer) -> int:
    """How many SSH clients the server saw (TCP probes that sent nothing do not count)."""
    log = server.log.read_text(errors="replace")
    return log.count("Connection from ") - log.count("kex_exchange_identification")


def ssh_keygen_fingerprint(public_key: Path) -> str:
    """OpenSSH's own SHA256 fingerprint of a public key file."""
    output = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(public_key)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return output.split()[1]
