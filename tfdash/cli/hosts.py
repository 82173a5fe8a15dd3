"""`tfdash hosts`: list the hosts, check one end to end, trust a host's key.

The SSH modules are imported where used: asyncssh takes ~0.2 s to import, which
commands for the local host should not pay.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from tfdash import paths
from tfdash.cli.connect import ask_passphrase, cli_hooks, host_config
from tfdash.cli.jobs import format_table
from tfdash.config import LOCAL_HOST, HostConfig, config_path, load_config
from tfdash.errors import HostKeyUnknown, UsageError, host_and_port
from tfdash.models import HostInfo
from tfdash.transport.hosts import session_for

if TYPE_CHECKING:
    from tfdash.transport.bootstrap import AgentCommand

# A host behind jump hosts may need one new key per hop.
MAX_TRUST_ROUNDS = 8


async def list_hosts(args: argparse.Namespace) -> int:
    config = load_config()
    hosts: list[dict[str, Any]] = [
        {"name": LOCAL_HOST, "host": None, "port": None, "user": getpass.getuser(), "trust": None}
    ]
    for host in config.hosts.values():
        hosts.append(await describe_host(host))
    if args.json:
        print(json.dumps(hosts, indent=2))
        return 0
    rows = [("NAME", "HOST", "PORT", "USER", "TRUST")]
    rows += [
        (
            entry["name"],
            entry["host"] or "(embedded agent)",
            str(entry["port"] or "-"),
            entry["user"],
            entry["trust"] or "-",
        )
        for entry in hosts
    ]
    print(format_table(rows))
    if not config.hosts:
        where = config.path or config_path()
        print(f"(no SSH hosts configured: add [hosts.NAME] tables to {where})", file=sys.stderr)
    return 0


async def describe_host(host: HostConfig) -> dict[str, Any]:
    """A configured host with the port and user that ~/.ssh/config gives it."""
    from tfdash.transport.ssh_connect import resolve_target

    target = await resolve_target(
        host.host, port=host.port, user=host.user, proxy_jump=host.proxy_jump
    )
    return {
        "name": host.name,
        "host": host.host,
        "port": target.port,
        "user": target.user,
        "trust": host.trust.value,
        "identity": str(host.identity) if host.identity else None,
        "python": host.python,
        "tfdash_home": host.tfdash_home,
        "proxy_jump": host.proxy_jump,
        "connect_timeout": host.connect_timeout,
    }


async def check_host(args: argparse.Namespace) -> int:
    """Connect, bootstrap and say hello; print what the agent reports and how long it took."""
    from tfdash.transport.ssh import SshTransport

    started = time.monotonic()
    session = session_for(
        args.name,
        host_config(args.name),
        local_home=paths.tfdash_home(args.home),
        hooks=cli_hooks(),
        reconnect=False,
    )
    try:
        await session.start()
        elapsed = time.monotonic() - started
        info = session.info
        link = session.status.message
    finally:
        await session.close()
    assert info is not None  # a started session said hello
    transport = session.transport
    bootstrap = transport.last_bootstrap if isinstance(transport, SshTransport) else None
    if args.json:
        report = {"name": args.name, "link": link, "seconds": round(elapsed, 3)}
        report |= {"hello": info_json(info), "bootstrap": bootstrap_json(bootstrap)}
        print(json.dumps(report, indent=2))
    else:
        print(format_check(args.name, link, elapsed, info, bootstrap))
    return 0


def format_check(
    name: str, link: str, elapsed: float, info: HostInfo, bootstrap: AgentCommand | None
) -> str:
    caps = info.capabilities
    capabilities = [
        f"tmux {caps.tmux}" if caps.tmux else "no tmux",
        "nvml" if caps.nvml else "no nvml",
        f"nvidia-smi {caps.nvidia_smi}" if caps.nvidia_smi else "no nvidia-smi",
        "tensorboard protos" if caps.tensorboard else "no tensorboard protos",
        f"tensorflow {caps.tensorflow}" if caps.tensorflow else "no tensorflow",
    ]
    agent = f"{info.agent_version}, protocol {info.protocol_version}"
    if bootstrap is not None:
        done = "uploaded just now" if bootstrap.uploaded else "already installed"
        agent += f" ({done}: {bootstrap.archive_path}; bootstrap took {bootstrap.elapsed:.2f} s)"
    lines = [
        f"{name}: connected in {elapsed:.2f} s ({link})",
        f"  agent         {agent}",
        f"  python        {info.python_version}  {info.python_executable}",
        f"  hostname      {info.hostname}",
        f"  user          {info.user}",
        f"  tfdash home   {info.tfdash_home}",
        f"  capabilities  {', '.join(capabilities)}",
    ]
    return "\n".join(lines)


def info_json(info: HostInfo) -> dict[str, Any]:
    caps = info.capabilities
    return {
        "agent_version": info.agent_version,
        "protocol_version": info.protocol_version,
        "python": {"version": info.python_version, "executable": info.python_executable},
        "hostname": info.hostname,
        "user": info.user,
        "tfdash_home": info.tfdash_home,
        "capabilities": {
            "tmux": caps.tmux,
            "nvml": caps.nvml,
            "nvidia_smi": caps.nvidia_smi,
            "tensorboard": caps.tensorboard,
            "tensorflow": caps.tensorflow,
        },
    }


def bootstrap_json(bootstrap: AgentCommand | None) -> dict[str, Any] | None:
    if bootstrap is None:
        return None
    return {
        "uploaded": bootstrap.uploaded,
        "python": bootstrap.python,
        "archive": bootstrap.archive_path,
        "seconds": round(bootstrap.elapsed, 3),
    }


async def trust_host(args: argparse.Namespace) -> int:
    """Connect; for each unknown host key on the way, show it and record it if confirmed."""
    from tfdash.transport.hostkeys import record_host_key
    from tfdash.transport.ssh_connect import open_connection

    host = load_config().host(args.name)
    prompt = ask_passphrase if sys.stdin.isatty() else None
    for _ in range(MAX_TRUST_ROUNDS):
        try:
            connection = await open_connection(host, prompt)
        except HostKeyUnknown as unknown:
            where = host_and_port(unknown.host, unknown.port)
            print(f"{where} offers the host key {unknown.key_type} {unknown.fingerprint}")
            if not (args.yes or await confirm(f"Trust it (added to {unknown.known_hosts_file})?")):
                print("Not trusted: nothing was changed.")
                return 1
            record_host_key(unknown.known_hosts_file, unknown.known_hosts_line)
            print(f"Recorded in {unknown.known_hosts_file}.")
            continue
        key = connection.conn.get_server_host_key()
        await connection.close()
        fingerprint = f"{key.get_algorithm()} {key.get_fingerprint('sha256')}" if key else "?"
        print(
            f"{host.name} ({connection.target.describe()}): the host key {fingerprint} is trusted."
        )
        return 0
    raise UsageError(f"{host.name}: gave up after {MAX_TRUST_ROUNDS} new host keys")


async def confirm(question: str) -> bool:
    """y/N on the terminal; without one, the person must pass --yes."""
    if not sys.stdin.isatty():
        raise UsageError(
            "not on a terminal, so tfdash cannot ask: compare the fingerprint with the "
            "host's own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub there), then run "
            "again with --yes"
        )
    answer = await asyncio.to_thread(input, f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")
