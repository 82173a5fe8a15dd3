"""What an SSH connection needs from whoever shows it to a person (no asyncssh import).

The CLI prompts with getpass on a terminal; the dashboard will use a modal. Kept apart
from ssh.py so that commands for the local host never pay asyncssh's import (~0.2 s).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

PassphrasePrompt = Callable[[str], Awaitable[str | None]]
"""Asks the person: gets a prompt text, returns the passphrase or None (declined)."""
UploadProgress = Callable[[str, int, int], None]
"""(host name, bytes sent, bytes total) while the agent is uploaded."""


@dataclass(frozen=True)
class SshHooks:
    """Asking for key passphrases (never stored) and showing the agent upload's progress."""

    passphrase: PassphrasePrompt | None = None
    upload_progress: UploadProgress | None = None
