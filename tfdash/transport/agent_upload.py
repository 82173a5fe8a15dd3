"""Putting agent.pyz on a remote host: by SFTP, or streamed to the remote Python over exec.

Both ways write a uniquely named temporary file next to the final one and rename it into
place, so a dropped link never leaves a half-written ``agent.pyz`` and two laptops
bootstrapping the same host at once cannot break each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import shlex
import uuid
from collections.abc import Callable

import asyncssh

from tfdash.errors import ConnectionFailed
from tfdash.transport.agent_archive import ARCHIVE_NAME, AgentArchive

ProgressCallback = Callable[[int, int], None]
CHUNK_BYTES = 32 * 1024
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
# Run by the remote Python, fed the archive on stdin: it checks size and SHA-256 before it
# writes anything, so an EOF from a dropped link cannot put a truncated agent in place.
RECEIVE_SCRIPT = """\
import hashlib, os, sys, tempfile
directory, final, size, sha256 = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
data = sys.stdin.buffer.read(size)
if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
    sys.stderr.write("received %d of %d bytes, or a wrong SHA-256\\n" % (len(data), size))
    sys.exit(3)
os.umask(0o077)
os.makedirs(directory, mode=0o700, exist_ok=True)
fd, temp = tempfile.mkstemp(prefix=".agent.pyz.", suffix=".tmp", dir=directory)
try:
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, final)
except BaseException:
    os.unlink(temp)
    raise
"""


class SftpUnavailable(Exception):
    """The server offers no SFTP subsystem (``Subsystem sftp`` missing in sshd_config)."""


async def upload_by_sftp(
    conn: asyncssh.SSHClientConnection,
    archive: AgentArchive,
    directory: str,
    progress: ProgressCallback | None,
) -> None:
    """Upload over SFTP; raise SftpUnavailable when the server has no SFTP subsystem."""
    try:
        sftp = await conn.start_sftp_client()
    except (asyncssh.ChannelOpenError, asyncssh.SFTPError) as exc:
        raise SftpUnavailable(str(exc)) from exc
    final = posixpath.join(directory, ARCHIVE_NAME)
    temp = posixpath.join(directory, f".{ARCHIVE_NAME}.{uuid.uuid4().hex}.tmp")
    try:
        await sftp.makedirs(
            directory, attrs=asyncssh.SFTPAttrs(permissions=DIRECTORY_MODE), exist_ok=True
        )
        try:
            await _write_file(sftp, temp, archive.data, progress)
            await sftp.chmod(temp, FILE_MODE)
            await _rename_into_place(sftp, temp, final)
        except BaseException:
            with contextlib.suppress(asyncssh.Error, OSError):
                await sftp.remove(temp)
            raise
    finally:
        sftp.exit()
        with contextlib.suppress(asyncssh.Error, OSError):
            await sftp.wait_closed()


async def _write_file(
    sftp: asyncssh.SFTPClient, path: str, data: bytes, progress: ProgressCallback | None
) -> None:
    """Write ``data`` with all chunks in flight at once (one round trip, not one per chunk)."""
    total = len(data)
    sent = 0

    async def write_chunk(file: asyncssh.SFTPClientFile, offset: int) -> None:
        nonlocal sent
        chunk = data[offset : offset + CHUNK_BYTES]
        await file.write(chunk, offset)
        sent += len(chunk)
        if progress is not None:
            progress(sent, total)

    attrs = asyncssh.SFTPAttrs(permissions=FILE_MODE)
    async with sftp.open(path, "xb", attrs=attrs, encoding=None) as file:
        writes = [
            asyncio.ensure_future(write_chunk(file, offset))
            for offset in range(0, total, CHUNK_BYTES)
        ]
        try:
            await asyncio.gather(*writes)
        except BaseException:
            for write in writes:
                write.cancel()
            await asyncio.gather(*writes, return_exceptions=True)
            raise


async def _rename_into_place(sftp: asyncssh.SFTPClient, temp: str, final: str) -> None:
    """Atomic replace (OpenSSH's posix-rename); plain SFTP rename where that is missing."""
    try:
        await sftp.posix_rename(temp, final)
    except asyncssh.SFTPOpUnsupported:
        try:
            await sftp.rename(temp, final)
        except asyncssh.SFTPFailure:
            # SFTPv3 rename refuses an existing target: another client put the same
            # build there first, which is just as good.
            if not await sftp.isfile(final):
                raise
            await sftp.remove(temp)


async def upload_by_exec(
    conn: asyncssh.SSHClientConnection,
    archive: AgentArchive,
    directory: str,
    python: str,
    progress: ProgressCallback | None,
) -> None:
    """Stream the archive into the remote Python on an exec channel (no SFTP needed)."""
    final = posixpath.join(directory, ARCHIVE_NAME)
    total = len(archive.data)
    command = shlex.join(
        [python, "-c", RECEIVE_SCRIPT, directory, final, str(total), archive.sha256]
    )
    process = await conn.create_process(command, encoding=None)
    sent = 0
    try:
        for offset in range(0, total, CHUNK_BYTES):
            chunk = archive.data[offset : offset + CHUNK_BYTES]
            process.stdin.write(chunk)
            await process.stdin.drain()
            sent += len(chunk)
            if progress is not None:
                progress(sent, total)
        process.stdin.write_eof()
        result = await process.wait(check=False)
    finally:
        process.close()
    if result.exit_status != 0:
        output = result.stderr or b""
        stderr = (
            output.decode("utf-8", "replace") if isinstance(output, bytes) else output
        ).strip()
        detail = stderr.splitlines()[-1] if stderr else f"exit status {result.exit_status}"
        raise ConnectionFailed(
            f"streaming the agent to {final} failed: {detail}", title="Agent upload failed"
        )
