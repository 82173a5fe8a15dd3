"""A host's refused key: the trust prompt for an unknown key, the alarm for a changed one.

Trusting is an explicit choice made on the fingerprint (as OpenSSH's first-connect
prompt); a changed key is never trusted from here: the old line must be removed by hand.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tfdash.errors import HostKeyChanged, HostKeyUnknown, host_and_port

RefusedKey = HostKeyUnknown | HostKeyChanged


def key_fields(refused: RefusedKey) -> list[tuple[str, str]]:
    """(label, value) rows describing the refused key."""
    host = host_and_port(refused.host, refused.port)
    rows = [
        ("Host", f"{refused.name} ({host})" if refused.name != refused.host else host),
        ("Key type", refused.key_type),
        ("Fingerprint", refused.fingerprint),
    ]
    if isinstance(refused, HostKeyUnknown):
        rows.append(("Written to", str(refused.known_hosts_file)))
    else:
        rows.append(("Recorded at", ", ".join(f"{p}:{n}" for p, n in refused.known_lines)))
    return rows


class HostKeyScreen(ModalScreen[bool]):
    """Dismisses with True only when the person trusts an unknown key."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="host-key.cancel")]

    def __init__(self, refused: RefusedKey) -> None:
        super().__init__()
        self.refused = refused

    @property
    def can_trust(self) -> bool:
        return isinstance(self.refused, HostKeyUnknown)

    def compose(self) -> ComposeResult:
        changed = not self.can_trust
        classes = "dialog -alarm" if changed else "dialog"
        with Vertical(id="host-key-dialog", classes=classes) as dialog:
            dialog.border_title = self.refused.title if changed else "Trust this host key?"
            with Grid(id="host-key-fields"):
                for label, value in key_fields(self.refused):
                    yield Label(label, classes="field-label")
                    yield Static(value, classes="field-value", markup=False)
            if changed:
                yield Static(self.refused.message, id="host-key-warning", markup=False)
            else:
                yield Static(
                    "Compare the fingerprint with the host's own before you trust it, e.g. "
                    "`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` run on the host.",
                    classes="dialog-note",
                    markup=False,
                )
            with Horizontal(classes="dialog-buttons"):
                if not changed:
                    yield Button("Trust", id="host-key-trust", variant="warning")
                yield Button("Close" if changed else "Cancel", id="host-key-cancel")

    def on_mount(self) -> None:
        self.query_one("#host-key-cancel", Button).focus()  # trusting takes a deliberate move

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "host-key-trust" and self.can_trust)

    def action_cancel(self) -> None:
        self.dismiss(False)
