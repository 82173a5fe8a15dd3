"""HostSessions from the configuration: "local" (the embedded agent) and the SSH hosts.

A name config.toml does not list is an ssh-config alias or a hostname with every
default, so ``tfdash --host gpu-box jobs`` works without writing any configuration.
"""

from __future__ import annotations

from pathlib import Path

from tfdash.config import LOCAL_HOST, Config
from tfdash.transport.local import LocalTransport
from tfdash.transport.manager import HostManager
from tfdash.transport.session import HostSession
from tfdash.transport.ssh_hooks import SshHooks

# SSH keepalive finds a dead TCP path within 6 s; the ping finds an agent that hangs.
SSH_PING_INTERVAL_S = 3.0


def session_for(
    name: str,
    config: Config,
    *,
    local_home: Path | None = None,
    hooks: SshHooks | None = None,
    reconnect: bool = True,
) -> HostSession:
    """A (not yet started) session to host ``name``: "local", configured, or an alias."""
    if name == LOCAL_HOST:
        return HostSession(LOCAL_HOST, LocalTransport(tfdash_home=local_home), reconnect=reconnect)
    from tfdash.transport.ssh import SshTransport  # asyncssh: only when a host needs it

    transport = SshTransport(config.host(name), hooks=hooks)
    return HostSession(name, transport, reconnect=reconnect, ping_interval=SSH_PING_INTERVAL_S)


def build_manager(
    config: Config, *, local_home: Path | None = None, hooks: SshHooks | None = None
) -> HostManager:
    """A HostManager with "local" and every configured host, in the file's order."""
    manager = HostManager()
    for name in [LOCAL_HOST, *config.hosts]:
        manager.add(session_for(name, config, local_home=local_home, hooks=hooks))
    return manager
