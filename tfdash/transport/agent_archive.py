"""The agent as one zipapp: ``remote_agent`` plus pure-Python ``pynvml``, built in memory.

The archive is deterministic (sorted names, fixed timestamps and modes), and its digest
hashes only names and file contents, so the remote directory ``agent/<version>-<digest>``
changes exactly when the agent's code does, whichever laptop built it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import remote_agent

ARCHIVE_NAME = "agent.pyz"
DIGEST_CHARS = 16
# 1980-01-01, the earliest time a zip entry can carry: no build time leaks into the bytes.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
# Runs `remote_agent`'s own main; Python 3.8 syntax like the rest of the agent.
ROOT_MAIN = (
    b'"""Entry point of agent.pyz: python3 agent.pyz serve | run-job <dir>."""\n'
    b"import sys\n"
    b"\n"
    b"from remote_agent.__main__ import main\n"
    b"\n"
    b"sys.exit(main())\n"
)


@dataclass(frozen=True)
class AgentArchive:
    """A built agent zipapp: what it holds and where it lives on a remote host."""

    version: str
    digest: str
    """The first DIGEST_CHARS hex characters of a SHA-256 over member names and contents."""
    data: bytes
    sha256: str
    """SHA-256 of ``data`` (hex): what an upload must arrive as."""
    members: tuple[str, ...]

    @property
    def directory(self) -> str:
        """The directory under ``$TFDASH_HOME`` that holds this very build."""
        return f"agent/{self.version}-{self.digest}"

    @property
    def relative_path(self) -> str:
        """``agent/<version>-<digest>/agent.pyz``, relative to ``$TFDASH_HOME``."""
        return f"{self.directory}/{ARCHIVE_NAME}"


def agent_sources() -> dict[str, bytes]:
    """Archive member name → content: the agent's .py files, pynvml if importable, __main__."""
    package_dir = Path(remote_agent.__file__).resolve().parent
    members: dict[str, bytes] = {}
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir.parent)
        if "__pycache__" in relative.parts:
            continue
        members[relative.as_posix()] = path.read_bytes()
    pynvml = pynvml_source()
    if pynvml is not None:
        members["pynvml.py"] = pynvml
    members["__main__.py"] = ROOT_MAIN
    return members


def pynvml_source() -> bytes | None:
    """The local pure-Python ``pynvml`` module (nvidia-ml-py), if it is a single file."""
    spec = importlib.util.find_spec("pynvml")
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    if spec.submodule_search_locations is not None:
        return None  # a package (another distribution's wrapper), not the one-file module
    return Path(spec.origin).read_bytes()


def content_digest(members: dict[str, bytes]) -> str:
    """SHA-256 over sorted (name, content) pairs, truncated to DIGEST_CHARS hex digits."""
    sha = hashlib.sha256()
    for name in sorted(members):
        content = members[name]
        encoded = name.encode("utf-8")
        sha.update(len(encoded).to_bytes(4, "big") + encoded)
        sha.update(len(content).to_bytes(8, "big") + content)
    return sha.hexdigest()[:DIGEST_CHARS]


def zip_members(members: dict[str, bytes]) -> bytes:
    """A zip of ``members`` with sorted names, fixed timestamps and modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100000 | FILE_MODE) << 16
            info.create_system = 3  # Unix, so the mode above means what it says
            archive.writestr(info, members[name], compresslevel=9)
    return buffer.getvalue()


@functools.cache
def build_archive() -> AgentArchive:
    """Build the agent zipapp once per process (the sources do not change under us)."""
    members = agent_sources()
    data = zip_members(members)
    return AgentArchive(
        version=remote_agent.__version__,
        digest=content_digest(members),
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        members=tuple(sorted(members)),
    )
