"""Opening an SSH connection to a configured host: ~/.ssh/config, jump hosts, clear errors.

Every failure becomes one ConnectionFailed subclass that says what to do: unreachable and
timeouts are retried by the session, refused keys and host keys are not (they need a
person). Keepalive is on (asyncssh's is off by default): a silent link dies in <= 6 s.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from tfdash.config import DEFAULT_SSH_PORT, HostConfig, TrustPolicy
from tfdash.errors import AuthFailed, ConnectionFailed, ConnectTimeout, HostUnreachable
from tfdash.transport.hostkeys import HostKeyPolicy, KnownHostsFiles
from tfdash.transport.ssh_auth import (
    Deadline,
    PassphraseAsker,
    identity_files,
    offered_keys,
)
from tfdash.transport.ssh_hooks import PassphrasePrompt

# asyncssh drops the link at the (count_max + 1)-th silent interval: 1 s x 3 notices a
# blackhole after about 4 s (1.5 s x 3 measured 5.9 s, too close to the 6 s goal).
KEEPALIVE_INTERVAL_S = 1.0
KEEPALIVE_COUNT_MAX = 3
# AES-GCM first: with AES-NI (every recent x86 and ARMv8 CPU) it costs the client about
# half the CPU of chacha20-poly1305, asyncssh's first choice, when a log streams in bulk
# (docs/performance.md). The rest keep servers without GCM reachable.
CIPHERS = (
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-ctr",
)
PLAIN_SSH_PORT = 22
MAX_JUMP_DEPTH = 8
CLOSE_WAIT_S = 1.0


@dataclass(frozen=True)
class SshTarget:
    """One SSH server as ~/.ssh/config resolves it."""

    alias: str
    """What was asked for (an ssh-config alias or a hostname)."""
    hostname: str
    port: int
    user: str
    jumps: tuple[str, ...]
    known_hosts: KnownHostsFiles
    identities: tuple[Path, ...]

    def describe(self) -> str:
        return f"{self.user}@{self.hostname}:{self.port}"


async def resolve_target(
    alias: str,
    *,
    port: int | None = None,
    user: str | None = None,
    default_port: int = DEFAULT_SSH_PORT,
    proxy_jump: str | None = None,
    identity: Path | None = None,
) -> SshTarget:
    """Apply ~/.ssh/config to ``alias``; explicit arguments win over it."""
    try:
        options = await asyncssh.SSHClientConnectionOptions.construct(
            host=alias, username=user or (), client_keys=None, config=()
        )
    except (ValueError, OSError) as exc:
        failure = ConnectionFailed(f"cannot use the SSH configuration for {alias}: {exc}")
        failure.retryable = False
        raise failure from exc
    ssh_config = options.config
    ssh_config_port = ssh_config.get("Port")
    jumps = proxy_jump if proxy_jump is not None else options.tunnel
    return SshTarget(
        alias=alias,
        hostname=options.host,
        port=port or (int(ssh_config_port) if ssh_config_port else default_port),
        user=options.username,
        jumps=parse_jumps(jumps),
        known_hosts=known_hosts_files(
            list(ssh_config.get("UserKnownHostsFile") or ()),
            list(ssh_config.get("GlobalKnownHostsFile") or ()),
        ),
        identities=tuple(identity_files(identity, list(ssh_config.get("IdentityFile") or ()))),
    )


def parse_jumps(value: object) -> tuple[str, ...]:
    """ProxyJump's comma-separated hosts; "none" (or nothing) means a direct connection."""
    if not isinstance(value, str) or not value.strip() or value.strip().lower() == "none":
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


def known_hosts_files(user_files: list[str], global_files: list[str]) -> KnownHostsFiles:
    """ssh_config's UserKnownHostsFile (default ~/.ssh/known_hosts) and GlobalKnownHostsFile.

    New keys go to the first user file. Unlike asyncssh, "none" never turns checking off.
    """
    users = [Path(name).expanduser() for name in user_files if name.lower() != "none"]
    default = KnownHostsFiles.default()
    record = users[0] if users else default.record
    extra = tuple(Path(name).expanduser() for name in global_files if name.lower() != "none")
    return KnownHostsFiles(check=(*(users or [record]), *extra), record=record)


async def jump_chain(target: SshTarget, depth: int = 0) -> list[SshTarget]:
    """The jump hosts in front of ``target``, a first hop's own ProxyJump included."""
    hops: list[SshTarget] = []
    for spec in target.jumps:
        user, at, rest = spec.rpartition("@")
        host, colon, port = rest.rpartition(":")
        if not colon or not port.isdigit():
            host, port = rest, ""
        hop = await resolve_target(
            host.strip("[]"),
            port=int(port) if port else None,
            user=user if at else None,
            default_port=PLAIN_SSH_PORT,
        )
        if not hops and hop.jumps:
            if depth >= MAX_JUMP_DEPTH:
                raise ConnectionFailed(
                    f"ProxyJump of {target.alias} nests deeper than {MAX_JUMP_DEPTH} hosts"
                )
            hops += await jump_chain(hop, depth + 1)
        hops.append(hop)
    return hops


@dataclass
class SshConnection:
    """An open connection and the jump-host connections it runs through."""

    conn: asyncssh.SSHClientConnection
    hops: list[asyncssh.SSHClientConnection]
    target: SshTarget

    async def close(self) -> None:
        """Close the connection, then its jump hosts; abort whatever does not close soon."""
        for conn in [self.conn, *reversed(self.hops)]:
            await close_connection(conn)


async def close_connection(conn: asyncssh.SSHClientConnection) -> None:
    conn.close()
    try:
        await asyncio.wait_for(conn.wait_closed(), CLOSE_WAIT_S)
    except TimeoutError:
        conn.abort()  # a frozen link never acknowledges the close


async def resolve_host(host: HostConfig) -> SshTarget:
    """Where ``host`` of config.toml really is, with ~/.ssh/config applied under it."""
    return await resolve_target(
        host.host,
        port=host.port,
        user=host.user,
        proxy_jump=host.proxy_jump,
        identity=host.identity,
    )


async def open_connection(
    host: HostConfig, prompt: PassphrasePrompt | None = None
) -> SshConnection:
    """Connect to ``host`` (through its jump hosts) within host.connect_timeout."""
    target = await resolve_host(host)
    if host.identity is not None and not host.identity.is_file():
        raise AuthFailed(
            f"the identity file {host.identity} configured for {host.name} does not exist: "
            "fix `identity` in config.toml"
        )
    asker = PassphraseAsker(prompt, Deadline(host.connect_timeout))
    hops: list[asyncssh.SSHClientConnection] = []
    try:
        tunnel: asyncssh.SSHClientConnection | None = None
        for hop in await jump_chain(target):
            tunnel = await connect_once(host.name, hop, host.trust, asker, tunnel)
            hops.append(tunnel)
        conn = await connect_once(host.name, target, host.trust, asker, tunnel)
    except BaseException:
        for hop_conn in reversed(hops):
            await close_connection(hop_conn)
        raise
    return SshConnection(conn=conn, hops=hops, target=target)


async def connect_once(
    name: str,
    target: SshTarget,
    trust: TrustPolicy,
    asker: PassphraseAsker,
    tunnel: asyncssh.SSHClientConnection | None,
) -> asyncssh.SSHClientConnection:
    """One asyncssh.connect with our host-key policy, keys and keepalive; errors mapped."""
    policy = HostKeyPolicy(name, trust, target.known_hosts)
    known = "".join(_read_text(path) for path in target.known_hosts.check)
    keys = await offered_keys(list(target.identities), asker)
    where = target.describe() + (" (through a jump host)" if tunnel else "")
    try:
        return await asker.deadline.run(
            asyncssh.connect(
                target.alias,
                target.port,
                tunnel=tunnel,
                username=target.user,
                client_factory=lambda: policy,
                known_hosts=asyncssh.import_known_hosts(known),
                client_keys=keys or (),
                passphrase=asker.for_asyncssh if keys else None,
                keepalive_interval=KEEPALIVE_INTERVAL_S,
                keepalive_count_max=KEEPALIVE_COUNT_MAX,
                encryption_algs=CIPHERS,
                connect_timeout=None,  # asker.deadline times the whole handshake
            )
        )
    except TimeoutError:
        raise ConnectTimeout(
            f"{where} did not complete the SSH handshake within {asker.deadline.seconds:g} s "
            "(a firewall dropping packets, a wrong port, or an overloaded host?)"
        ) from None
    except asyncssh.HostKeyNotVerifiable as exc:
        if policy.refusal is not None:
            raise policy.refusal from None
        raise _not_retryable(f"{where}: the host key was refused: {exc.reason}") from exc
    except asyncssh.PermissionDenied as exc:
        raise AuthFailed(_auth_advice(where, target, keys, asker)) from exc
    except asyncssh.KeyExchangeFailed as exc:
        raise _not_retryable(f"{where}: no common SSH algorithm: {exc.reason}") from exc
    except asyncssh.ChannelOpenError as exc:
        raise HostUnreachable(f"the jump host cannot reach {where}: {exc.reason}") from exc
    except asyncssh.DisconnectError as exc:
        raise ConnectionFailed(f"{where} closed the SSH connection: {exc.reason}") from exc
    except socket.gaierror as exc:
        raise HostUnreachable(
            f"cannot resolve {target.hostname!r} ({exc.strerror}): is it a hostname, or an "
            "alias missing from ~/.ssh/config?"
        ) from exc
    except ConnectionRefusedError as exc:
        raise HostUnreachable(
            f"nothing accepts connections at {where}: is sshd running there, and is "
            f"{target.port} its port?"
        ) from exc
    except OSError as exc:
        raise HostUnreachable(f"cannot reach {where}: {exc.strerror or exc}") from exc
    except ValueError as exc:  # asyncssh's answer to unusable options or keys
        raise _not_retryable(f"cannot connect to {where}: {exc}") from exc


def _auth_advice(
    where: str, target: SshTarget, keys: Sequence[object], asker: PassphraseAsker
) -> str:
    offered = ", ".join(str(key) for key in keys if isinstance(key, str)) or "no key files"
    message = (
        f"{where} refused the keys tfdash offered ({offered}, plus any in ssh-agent). "
        f"Check the user ({target.user}) and `identity` for this host in config.toml or "
        "~/.ssh/config, and that the public key is in ~/.ssh/authorized_keys on the host"
    )
    if asker.unavailable:
        skipped = ", ".join(sorted(set(asker.unavailable)))
        message += (
            f". These encrypted keys were not used (no passphrase): {skipped}; add them to "
            "ssh-agent (ssh-add) or run tfdash on a terminal to be asked"
        )
    if asker.unusable:
        message += f". These keys could not be decrypted here: {', '.join(asker.unusable)}"
    return message


def _not_retryable(message: str) -> ConnectionFailed:
    failure = ConnectionFailed(message)
    failure.retryable = False
    return failure


def _read_text(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text if text.endswith("\n") or not text else text + "\n"
