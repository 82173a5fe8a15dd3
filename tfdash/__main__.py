"""``python -m tfdash``: the same entry point as the ``tfdash`` command."""

from __future__ import annotations

from tfdash.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
