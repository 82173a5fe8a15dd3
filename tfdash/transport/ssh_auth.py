"""Which private keys to offer a server, and asking for the passphrase of encrypted ones.

An encrypted key whose ``.pub`` sits beside it is offered by its public half and only
decrypted if the server accepts it (as OpenSSH does), so the person is asked only when
it matters. One without a ``.pub`` must be decrypted before it can be offered. The
passphrase comes from a hook (a getpass prompt in the CLI, a modal in the dashboard)
and is never stored; the connect deadline stands still while the person types.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncssh

from tfdash.transport.ssh_hooks import PassphrasePrompt

logger = logging.getLogger(__name__)

# OpenSSH's default identities, in its order, when neither tfdash nor ssh_config names one.
DEFAULT_IDENTITIES = ("id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk")
PASSPHRASE_ATTEMPTS = 3
WRONG_PASSPHRASE = "wrong passphrase"
OfferedKey = str | asyncssh.SSHKeyPair
T = TypeVar("T")


class Deadline:
    """A time limit for connecting that stands still while a person is being asked."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._loop = asyncio.get_running_loop()
        self._ends_at = self._loop.time() + seconds
        self._paused_at: float | None = None
        self._resumed = asyncio.Event()
        self._resumed.set()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the clock for the duration of the block (one block at a time)."""
        self._paused_at = self._loop.time()
        self._resumed.clear()
        try:
            yield
        finally:
            self._ends_at += self._loop.time() - self._paused_at
            self._paused_at = None
            self._resumed.set()

    async def run(self, work: Awaitable[T]) -> T:
        """Await ``work``; cancel it and raise TimeoutError once the time is up."""
        task = asyncio.ensure_future(work)
        try:
            while not task.done():
                if self._paused_at is not None:
                    resumed = asyncio.ensure_future(self._resumed.wait())
                    await asyncio.wait([task, resumed], return_when=asyncio.FIRST_COMPLETED)
                    resumed.cancel()
                    continue
                remaining = self._ends_at - self._loop.time()
                if remaining <= 0:
                    raise TimeoutError
                await asyncio.wait([task], timeout=remaining)
            return task.result()
        finally:
            if not task.done():
                task.cancel()
                await asyncio.wait([task])


class PassphraseAsker:
    """Gets key passphrases from the hook, checking each answer before handing it on."""

    def __init__(self, prompt: PassphrasePrompt | None, deadline: Deadline) -> None:
        self._prompt = prompt
        self.deadline = deadline
        self.unavailable: list[str] = []
        """Encrypted keys not used for want of a passphrase: no hook, declined, wrong 3x."""
        self.unusable: list[str] = []
        """Encrypted keys this machine cannot decrypt, with why (e.g. bcrypt missing)."""

    @property
    def can_ask(self) -> bool:
        return self._prompt is not None

    def for_asyncssh(self, filename: str) -> Coroutine[Any, Any, str | None]:
        """asyncssh's ``passphrase`` callable: it awaits what this returns on our loop."""
        return self.ask(filename)

    async def ask(self, filename: str) -> str | None:
        """The passphrase that decrypts ``filename``, or None if there is none to be had."""
        if self._prompt is None:
            self.unavailable.append(filename)
            return None
        data = await asyncio.to_thread(Path(filename).read_bytes)
        with self.deadline.paused():
            for attempt in range(PASSPHRASE_ATTEMPTS):
                again = "Bad passphrase, try again" if attempt else "Enter passphrase"
                answer = await self._prompt(f"{again} for key '{filename}': ")
                if answer is None:
                    break
                problem = await asyncio.to_thread(_decryption_problem, data, answer)
                if problem is None:
                    return answer
                if problem != WRONG_PASSPHRASE:
                    self.unusable.append(f"{filename} ({problem})")
                    return None
        self.unavailable.append(filename)
        return None


def _decryption_problem(data: bytes, passphrase: str) -> str | None:
    """None if ``passphrase`` decrypts the key; else WRONG_PASSPHRASE or what is missing."""
    try:
        asyncssh.import_private_key(data, passphrase)
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
        # asyncssh says "... requires bcrypt ..." when a needed library is not installed.
        return str(exc) if "requires" in str(exc) else WRONG_PASSPHRASE
    return None


def _is_encrypted(path: Path) -> bool | None:
    """True/False for a private key file; None if it is not one asyncssh can use."""
    try:
        asyncssh.import_private_key(path.read_bytes())
    except asyncssh.KeyImportError as exc:
        return True if str(exc).startswith("Passphrase") else None
    except OSError:
        return None
    return False


def identity_files(explicit: Path | None, from_ssh_config: list[str]) -> list[Path]:
    """The key files to try: tfdash's, else ssh_config's IdentityFile, else the defaults."""
    if explicit is not None:
        return [explicit]
    if from_ssh_config:
        return [Path(name).expanduser() for name in from_ssh_config]
    ssh_dir = Path("~", ".ssh").expanduser()
    return [ssh_dir / name for name in DEFAULT_IDENTITIES]


async def offered_keys(files: list[Path], asker: PassphraseAsker) -> list[OfferedKey]:
    """Keys for asyncssh's ``client_keys``: paths, or key pairs decrypted up front."""
    keys: list[OfferedKey] = []
    for path in files:
        if not path.is_file():
            continue
        encrypted = await asyncio.to_thread(_is_encrypted, path)
        if encrypted is None:
            logger.debug("skipping %s: not a private key asyncssh can read", path)
        elif not encrypted:
            keys.append(str(path))
        elif not asker.can_ask:
            asker.unavailable.append(str(path))
        elif Path(f"{path}.pub").is_file():
            keys.append(str(path))  # decrypted on demand, through asker.for_asyncssh
        elif (passphrase := await asker.ask(str(path))) is not None:
            keys.extend(await asyncio.to_thread(asyncssh.load_keypairs, str(path), passphrase))
    return keys
