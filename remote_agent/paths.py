"""Where the agent keeps its state: ``$TFDASH_HOME`` (default ``~/.tfdash``), mode 0700."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import InvalidParams


def tfdash_home() -> Path:
    """The state directory, absolute; not created here."""
    value = os.environ.get("TFDASH_HOME")
    home = Path(value).expanduser() if value else Path.home() / ".tfdash"
    return home.absolute()


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) as 0700 directories; tighten an existing one we own."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    if st.st_uid == os.getuid() and st.st_mode & 0o077:
        path.chmod(0o700)
    return path


def jobs_dir() -> Path:
    return ensure_private_dir(ensure_private_dir(tfdash_home()) / "jobs")


def requests_dir() -> Path:
    """Client request ids of state-changing calls, for idempotent retries."""
    return ensure_private_dir(ensure_private_dir(tfdash_home()) / "requests")


def under_cwd(cwd: str, name: str, field: str, kind: str) -> Path:
    """``name`` (relative to ``cwd``, or absolute) resolved, refused unless inside ``cwd``.

    ``kind`` is "file" (the cwd itself is refused) or "directory" (it is allowed). Links
    are resolved first, so none can lead a job's log or logdir out of its cwd.
    """
    if not name or "\x00" in name:
        raise InvalidParams(f"{field} must be a non-empty path without NUL", field)
    root = Path(cwd).resolve()
    path = (root / name).resolve()  # an absolute ``name`` replaces the cwd here
    if root not in path.parents and not (kind == "directory" and path == root):
        raise InvalidParams(
            f"{field} {name!r} resolves to {str(path)!r}, which is not a {kind} under the "
            f"job's cwd {str(root)!r}: name one inside it (relative paths are from the cwd)",
            field,
        )
    return path
