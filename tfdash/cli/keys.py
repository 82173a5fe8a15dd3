"""`tfdash keys`: the keyboard reference, made from the bindings themselves.

docs/keys.md is this command's output; a test compares the two, so the reference cannot
drift from the keys the dashboard really has. The tables are built by
tfdash.screens.keytable, which the help screen (`?`) uses too.
"""

from __future__ import annotations

import argparse

from tfdash.app import TfdashApp
from tfdash.screens import keytable
from tfdash.screens.keytable import bindings_of, key_text

__all__ = ["SECTIONS", "bindings_of", "key_text", "print_keys", "reference"]

SECTIONS = keytable.sections(TfdashApp)


def reference() -> str:
    """docs/keys.md: the keys as shipped (config.toml's ``[keys]`` not applied)."""
    return keytable.reference(TfdashApp)


def print_keys(args: argparse.Namespace) -> int:
    print(reference(), end="")
    return 0
