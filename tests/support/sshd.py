"""A real OpenSSH ``sshd`` on loopback, with per-run host and client keys.

Its settings are the example container's (examples/container/sshd_config) with the few
a test must change put first: port, host key, paths under /tmp. As root it needs
``/run/sshd`` (mode 0755), an absolute ``-f`` config path, and, with keys under /tmp,
``StrictModes no`` (FACTS.md). Where the machine allows it, logins go to an
unprivileged test user, as in a hardened container.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
TEST_USER = "tfdash-test"
CONTAINER_SSHD_CONFIG = Path(__file__).resolve().parents[2] / "examples/container/sshd_config"


def config_lines(text: str) -> list[tuple[str, str]]:
    """An sshd_config's settings as (keyword, whole line), without comments and blanks."""
    settings: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            settings.append((line.split(None, 1)[0].lower(), line))
    return settings


def merged_config(overrides: list[str], base: str, drop: frozenset[str] = frozenset()) -> str:
    """``overrides``, then every line of ``base`` whose keyword they do not set nor ``drop``.

    sshd keeps the first value of most keywords but adds up Port, HostKey and a few
    others, so an overridden keyword is dropped from the base rather than shadowed.
    """
    overridden = {keyword for keyword, _ in config_lines("\n".join(overrides))} | drop
    kept = [line for keyword, line in config_lines(base) if keyword not in overridden]
    return "".join(f"{line}\n" for line in [*overrides, *kept])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def keygen(path: Path, kind: str = "ed25519", passphrase: str = "") -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", path.name, "-f", str(path)],
        check=True,
    )
    return path


def server_root() -> Path:
    """A fresh directory under /tmp for one sshd, reachable by the unprivileged user."""
    return Path(tempfile.mkdtemp(prefix="tfdash-sshd-"))


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


def ensure_test_user() -> str | None:
    """An unprivileged login user for the tests (created when we are root), or None."""
    with contextlib.suppress(KeyError):
        pwd.getpwnam(TEST_USER)
        return TEST_USER
    if os.geteuid() != 0 or not shutil.which("useradd"):
        return None
    # Parallel test workers may all get here first: one creates the user, under a lock.
    with open(Path(tempfile.gettempdir(), "tfdash-test-user.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with contextlib.suppress(KeyError):
            pwd.getpwnam(TEST_USER)
            return TEST_USER
        subprocess.run(["useradd", "-m", "-s", "/bin/bash", TEST_USER], check=True)
        # A "!" password makes the account locked under UsePAM no; "*" allows key login only.
        subprocess.run(["usermod", "-p", "*", TEST_USER], check=True)
    return TEST_USER


@dataclass
class SshServer:
    """One sshd; ``client_key`` logs in as ``user``; ``known_hosts`` trusts its host key.

    ``root`` must be reachable by ``user``: use ``server_root()`` for a fresh one.
    """

    root: Path
    port: int = 0
    user: str = field(default_factory=lambda: pwd.getpwuid(os.getuid()).pw_name)
    sftp: bool = True
    extra_config: str = ""
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # sshd reads authorized_keys as the login user: that file and the directories
        # above it must be reachable by an unprivileged user (pytest's tmp_path is not).
        self.root.chmod(0o711)
        self.port = self.port or free_port()
        self.host_key = keygen(self.root / "host_ed25519")
        self.client_key = keygen(self.root / "client_ed25519")
        self.authorized_keys = self.root / "authorized_keys"
        self.authorized_keys.write_text((self.root / "client_ed25519.pub").read_text())
        self.authorized_keys.chmod(0o644)
        self.log = self.root / "sshd.log"
        self.config = (self.root / "sshd_config").absolute()

    @property
    def host_public_key(self) -> str:
        return (self.root / "host_ed25519.pub").read_text().split()[1]

    def known_hosts_line(self, host: str = "127.0.0.1") -> str:
        name = host if self.port == 22 else f"[{host}]:{self.port}"
        return f"{name} ssh-ed25519 {self.host_public_key}\n"

    def write_config(self) -> None:
        """The container's sshd_config, with this test's port, keys and paths first."""
        overrides = [
            f"Port {self.port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {self.host_key}",
            f"PidFile {self.root / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            "StrictModes no",  # the keys live under /tmp
            f"AllowUsers {self.user}",
            *self.extra_config.splitlines(),
        ]
        if self.user == "root":  # only where no unprivileged test user can be made
            overrides.append("PermitRootLogin prohibit-password")
        base = CONTAINER_SSHD_CONFIG.read_text()
        drop = frozenset() if self.sftp else frozenset({"subsystem"})
        self.config.write_text(merged_config(overrides, base, drop))

    def start(self) -> SshServer:
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.write_config()
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.config), "-E", str(self.log)],
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sshd did not start: {self.log.read_text(errors='replace')}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
