"""Zero-install bootstrap: make sure this build of the agent is on the host, say how to start it.

Right after the SSH connection opens: resolve the remote Python (remembered per host),
check ``$TFDASH_HOME/agent/<version>-<digest>/agent.pyz`` in the same round trip, upload
the zipapp when it is absent (SFTP, or an exec channel when the server has no SFTP), and
return the argv that starts ``<python> <agent.pyz> serve``.
"""

from __future__ import annotations

import posixpath
import shlex
import time
from dataclasses import dataclass

import asyncssh

from tfdash.config import DEFAULT_REMOTE_HOME
from tfdash.errors import ConnectionFailed, RemotePythonMissing, RemotePythonTooOld
from tfdash.transport.agent_archive import AgentArchive, build_archive
from tfdash.transport.agent_upload import (
    ProgressCallback,
    SftpUnavailable,
    upload_by_exec,
    upload_by_sftp,
)
from tfdash.transport.python_cache import PythonCache
from tfdash.transport.remote_python import ProbeFailed, RemotePython, probe_python


@dataclass(frozen=True)
class AgentCommand:
    """How to start the agent on a bootstrapped host, and what bootstrapping did."""

    argv: list[str]
    """``[python, agent.pyz, "serve"]``, behind ``env TFDASH_HOME=…`` for a non-default home."""
    uploaded: bool
    python_version: str
    elapsed: float
    """Seconds spent in ensure_agent (probe, and upload if one was needed)."""
    python: str
    archive_path: str
    tfdash_home: str

    @property
    def command(self) -> str:
        """``argv`` as one shell command line, for an SSH exec channel."""
        return shlex.join(self.argv)


async def ensure_agent(
    conn: asyncssh.SSHClientConnection,
    *,
    python: str | None,
    tfdash_home: str = DEFAULT_REMOTE_HOME,
    cache_key: str,
    progress: ProgressCallback | None = None,
    host_label: str | None = None,
    archive: AgentArchive | None = None,
    python_cache: PythonCache | None = None,
) -> AgentCommand:
    """Put this agent build on the host if needed and return how to start it.

    ``python`` is the configured interpreter (None: search python3/python once, then
    remember the absolute path under ``cache_key``). ``progress(sent, total)`` follows an
    upload. Raises RemotePythonMissing / RemotePythonTooOld (not worth retrying) or
    ConnectionFailed, each naming ``host_label`` (default: ``cache_key``).
    """
    started = time.monotonic()
    host = host_label or cache_key
    archive = archive or build_archive()
    cache = python_cache or PythonCache()
    try:
        remote = await _resolve_python(conn, python, tfdash_home, archive, cache_key, host, cache)
    except (asyncssh.Error, OSError) as exc:
        # The link or a channel failed under us: worth a reconnect.
        raise ConnectionFailed(f"{host}: looking for the remote Python failed: {exc}") from exc
    archive_path = posixpath.join(remote.tfdash_home, archive.relative_path)
    uploaded = False
    if not remote.agent_present:
        directory = posixpath.dirname(archive_path)
        try:
            await _upload(conn, archive, directory, remote.executable, progress)
        except (asyncssh.Error, OSError) as exc:
            raise ConnectionFailed(
                f"{host}: uploading the agent to {directory} failed: {exc}",
                title="Agent upload failed",
            ) from exc
        uploaded = True
    argv = [remote.executable, archive_path, "serve"]
    if tfdash_home.rstrip("/") != DEFAULT_REMOTE_HOME:
        argv = ["env", f"TFDASH_HOME={remote.tfdash_home}", *argv]
    return AgentCommand(
        argv=argv,
        uploaded=uploaded,
        python_version=remote.version_text,
        elapsed=time.monotonic() - started,
        python=remote.executable,
        archive_path=archive_path,
        tfdash_home=remote.tfdash_home,
    )


async def _resolve_python(
    conn: asyncssh.SSHClientConnection,
    python: str | None,
    tfdash_home: str,
    archive: AgentArchive,
    cache_key: str,
    host: str,
    cache: PythonCache,
) -> RemotePython:
    """Probe with the remembered interpreter; search (or use ``python``) when there is none."""
    remembered = cache.lookup(cache_key, python)
    if remembered is not None:
        try:
            return await probe_python(
                conn,
                python=remembered,
                tfdash_home=tfdash_home,
                agent_relative_path=archive.relative_path,
                host=host,
            )
        except (RemotePythonMissing, RemotePythonTooOld, ProbeFailed):
            cache.forget(cache_key)  # it stopped working: find it again below
    found = await probe_python(
        conn,
        python=python,
        tfdash_home=tfdash_home,
        agent_relative_path=archive.relative_path,
        host=host,
    )
    cache.remember(cache_key, python, found.executable, found.version_text)
    return found


async def _upload(
    conn: asyncssh.SSHClientConnection,
    archive: AgentArchive,
    directory: str,
    python: str,
    progress: ProgressCallback | None,
) -> None:
    if progress is not None:
        progress(0, len(archive.data))
    try:
        await upload_by_sftp(conn, archive, directory, progress)
    except SftpUnavailable:
        await upload_by_exec(conn, archive, directory, python, progress)
