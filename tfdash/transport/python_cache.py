"""A local file remembering each host's resolved remote Python, so connects skip the search.

Finding ``python3`` through a login shell and a pyenv shim costs a few hundred ms per
connect (FACTS.md); the absolute interpreter path found once is kept in
``<cache dir>/tfdash/hosts.json`` and dropped as soon as it stops working.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from tfdash.paths import cache_dir

logger = logging.getLogger(__name__)

CACHE_FILE_NAME = "hosts.json"


def host_cache_file() -> Path:
    return cache_dir() / CACHE_FILE_NAME


class PythonCache:
    """host key → the absolute Python found there (for a configured value, or a search)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else host_cache_file()

    def lookup(self, cache_key: str, configured: str | None) -> str | None:
        """The remembered interpreter, if it was resolved for the same configured value."""
        entry = self._read().get(cache_key)
        if not isinstance(entry, dict) or entry.get("configured") != configured:
            return None
        python = entry.get("python")
        return python if isinstance(python, str) and python.startswith("/") else None

    def remember(self, cache_key: str, configured: str | None, python: str, version: str) -> None:
        entries = self._read()
        entries[cache_key] = {
            "configured": configured,
            "python": python,
            "version": version,
            "resolved_at": time.time(),
        }
        self._write(entries)

    def forget(self, cache_key: str) -> None:
        entries = self._read()
        if entries.pop(cache_key, None) is not None:
            self._write(entries)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # Only a cache: a damaged file costs one search, then it is rewritten.
            logger.warning("ignoring the unreadable host cache %s: %s", self.path, exc)
            return {}
        hosts = data.get("hosts") if isinstance(data, dict) else None
        return dict(hosts) if isinstance(hosts, dict) else {}

    def _write(self, entries: dict[str, Any]) -> None:
        """Replace the file atomically; failing to write only costs a later search."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".hosts-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as file:
                    json.dump({"hosts": entries}, file, indent=1, sort_keys=True)
                os.replace(temp, self.path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
                raise
        except OSError as exc:
            logger.warning("cannot write the host cache %s: %s", self.path, exc)
