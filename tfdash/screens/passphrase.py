"""Asking for an SSH key's passphrase: a modal with a password field, never stored.

The SSH transport awaits ``ask_passphrase`` from its own coroutine (the dashboard's
SshHooks.passphrase); the answer goes straight back to it, and the field is emptied.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


class PassphraseScreen(ModalScreen[str | None]):
    """Shows `prompt` (it names the key file); dismisses with the passphrase or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="passphrase.cancel")]

    def __init__(self, prompt: str) -> None:
        super().__init__()
        self.prompt = prompt.strip().removesuffix(":")

    def compose(self) -> ComposeResult:
        with Vertical(id="passphrase-dialog", classes="dialog") as dialog:
            dialog.border_title = "SSH key passphrase"
            yield Static(self.prompt, id="passphrase-prompt", markup=False)
            yield Input(password=True, id="passphrase-input", placeholder="passphrase")
            yield Static(
                "Used for this connection only: tfdash does not store it (ssh-add keeps "
                "a key unlocked for every tool).",
                classes="dialog-note",
                markup=False,
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Unlock", id="passphrase-ok", variant="primary")
                yield Button("Cancel", id="passphrase-cancel")

    def on_mount(self) -> None:
        self.query_one("#passphrase-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._answer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "passphrase-ok":
            self._answer()
        else:
            self.action_cancel()

    def _answer(self) -> None:
        field = self.query_one("#passphrase-input", Input)
        passphrase, field.value = field.value, ""
        self.dismiss(passphrase)

    def action_cancel(self) -> None:
        self.query_one("#passphrase-input", Input).value = ""
        self.dismiss(None)


async def ask_passphrase(app: App[Any], prompt: str) -> str | None:
    """Show a PassphraseScreen on `app` and wait for the person's answer (None: cancelled).

    Callable from any task of the App's loop: asyncssh asks from tasks of its own, where
    Textual's active app is unknown, so the screen is pushed by the App's message loop.
    """
    answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    def answered(passphrase: str | None) -> None:
        if not answer.done():
            answer.set_result(passphrase)

    if not app.call_later(partial(app.push_screen, PassphraseScreen(prompt), answered)):
        return None  # the dashboard is closing: nobody is there to ask
    return await answer
