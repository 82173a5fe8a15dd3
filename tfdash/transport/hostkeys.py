"""Host key checks against known_hosts, the way OpenSSH does them, with clear refusals.

asyncssh verifies keys found in known_hosts itself and asks its client object about any
other key. ``HostKeyPolicy`` answers: a host with a different key on record has CHANGED
(always refused); a host with none is UNKNOWN (recorded and accepted only under
``trust = "accept-new"``). Either refusal is kept so the transport can raise it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from tfdash.config import TrustPolicy
from tfdash.errors import ConnectionFailed, HostKeyChanged, HostKeyUnknown, host_and_port

logger = logging.getLogger(__name__)

DEFAULT_SSH_PORT = 22


@dataclass(frozen=True)
class KnownHostsFiles:
    """The known_hosts files to check, and the one to which new keys are added."""

    check: tuple[Path, ...]
    record: Path

    @classmethod
    def default(cls) -> KnownHostsFiles:
        path = Path("~", ".ssh", "known_hosts").expanduser()
        return cls(check=(path,), record=path)


def known_hosts_line(host: str, port: int, key: asyncssh.SSHKey) -> str:
    """The known_hosts line that trusts ``key`` for ``host``:``port`` (no comment)."""
    algorithm, data = key.export_public_key("openssh").decode("ascii").split()[:2]
    return f"{host_and_port(host, port)} {algorithm} {data}\n"


def recorded_lines(
    files: tuple[Path, ...], host: str, addr: str, port: int
) -> list[tuple[Path, int]]:
    """(file, line number) of every known_hosts entry that gives ``host`` a trusted key."""
    match_port = None if port == DEFAULT_SSH_PORT else port
    found: list[tuple[Path, int]] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        # The whole file decides which keys count (a [host]:port entry hides plain
        # `host` ones); then the lines holding those keys are the ones to report.
        trusted = set(asyncssh.import_known_hosts(text).match(host, addr, match_port)[0])
        if not trusted:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            entry = line.strip()
            if not entry or entry.startswith(("#", "@")):
                continue
            try:
                keys = asyncssh.import_known_hosts(entry).match(host, addr, match_port)[0]
            except (ValueError, asyncssh.KeyImportError):
                continue
            if trusted.intersection(keys):
                found.append((path, number))
    return found


def record_host_key(path: Path, line: str) -> None:
    """Append ``line`` to the known_hosts file ``path`` (created 0600 in a 0700 dir)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        with path.open("rb") as existing:
            existing.seek(0, os.SEEK_END)
            if existing.tell() > 0:
                existing.seek(-1, os.SEEK_END)
                if existing.read(1) != b"\n":
                    line = "\n" + line
    except FileNotFoundError:
        pass
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "ab") as known_hosts:
        known_hosts.write(line.encode("ascii"))


class HostKeyPolicy(asyncssh.SSHClient):
    """The asyncssh client object of one connection: decides about keys known_hosts lacks."""

    def __init__(self, name: str, trust: TrustPolicy, files: KnownHostsFiles) -> None:
        self.name = name
        self.trust = trust
        self.files = files
        self.refusal: ConnectionFailed | None = None
        """Why the host key was refused, for the transport to raise."""
        self.recorded: str | None = None
        """The known_hosts line added under accept-new, if one was."""

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        key_type = key.get_algorithm()
        fingerprint = key.get_fingerprint("sha256")
        known = recorded_lines(self.files.check, host, addr, port)
        if known:
            self.refusal = HostKeyChanged(
                name=self.name,
                host=host,
                port=port,
                key_type=key_type,
                fingerprint=fingerprint,
                known_lines=known,
            )
            return False
        line = known_hosts_line(host, port, key)
        if self.trust is TrustPolicy.ACCEPT_NEW:
            try:
                record_host_key(self.files.record, line)
            except OSError as exc:
                logger.warning(
                    "could not record the key of %s in %s: %s", host, self.files.record, exc
                )
            else:
                logger.info(
                    "recorded the new key %s of %s in %s", fingerprint, host, self.files.record
                )
            self.recorded = line
            return True
        self.refusal = HostKeyUnknown(
            name=self.name,
            host=host,
            port=port,
            key_type=key_type,
            fingerprint=fingerprint,
            known_hosts_line=line,
            known_hosts_file=self.files.record,
        )
        return False
