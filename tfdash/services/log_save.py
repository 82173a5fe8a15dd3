"""Saving a job's whole log to a local file, byte for byte, streamed from the agent.

Reads `logs.read` pages (``exact``: UTF-8 text, or base64 where not UTF-8; 8 MiB) from
the start of the oldest rotated file, so the file holds everything still on the host,
not only what the view kept. Writes
``<dest>.part`` and renames it when complete: a cancelled or failed save leaves nothing.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from remote_agent import protocol
from tfdash.errors import AgentError, TfdashError
from tfdash.services.log_pages import PAGE_BYTES, call_again_after_drops
from tfdash.transport.session import HostSession

Progress = Callable[[int, int | None], None]
T = TypeVar("T")

STALLED_READS = 5
"""Empty reads in a row, short of the size seen at the start, before a save ends anyway
(the rest was rotated away or deleted meanwhile; that shows up as a gap)."""
STALL_WAIT_S = 0.2
EXACT, BASE64 = "exact", "base64"
"""``exact`` pages come as text when valid UTF-8 (cheaper than base64 to send and decode)."""


class LogFileExists(TfdashError, FileExistsError):
    """The destination exists and the caller did not ask to overwrite it."""

    title = "File exists"


class LogSaveFailed(TfdashError):
    """The local file could not be written."""

    title = "Save failed"


@dataclass(frozen=True)
class SaveResult:
    """Where the log went, how many bytes, and why lines are missing (if they are)."""

    path: Path
    bytes_written: int
    gaps: tuple[str, ...]


async def save_log(
    session: HostSession,
    job_id: str,
    dest: Path,
    *,
    file: str | None = None,
    progress: Progress | None = None,
    overwrite: bool = False,
) -> SaveResult:
    """Write the job's whole log (or ``file``) to ``dest``; ``progress(done, total)``.

    ``total`` is the size of the rotated set when the save began (None if the agent
    cannot tell; a lower bound when some files are compressed). A running job is saved
    up to where it was when the save caught up with it.
    """
    if dest.exists() and not overwrite:
        raise LogFileExists(f"{dest} exists: choose another name, or overwrite it")
    target: dict[str, Any] = {"id": job_id}
    if file is not None:
        target["file"] = file
    total = await _total_bytes(session, target)
    if progress is not None:
        progress(0, total)
    part = dest.with_name(dest.name + ".part")
    try:
        out = open(part, "wb")  # noqa: SIM115 - closed in the finally below
    except OSError as exc:
        raise LogSaveFailed(f"cannot write {part}: {exc.strerror or exc}") from exc
    try:
        try:
            done, gaps = await _copy_pages(session, target, out, total, progress)
            await _in_thread(_flush_and_sync, out)
        finally:
            out.close()
        await _in_thread(_publish, part, dest, overwrite)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        raise
    return SaveResult(path=dest, bytes_written=done, gaps=tuple(gaps))


async def _total_bytes(session: HostSession, target: dict[str, Any]) -> int | None:
    try:
        files = await call_again_after_drops(session, "logs.files", target)
    except AgentError as exc:
        if exc.code != protocol.METHOD_NOT_FOUND:
            raise
        return None  # an older agent: progress without a total
    return int(files["total_bytes"])


async def _copy_pages(
    session: HostSession,
    target: dict[str, Any],
    out: IO[bytes],
    total: int | None,
    progress: Progress | None,
) -> tuple[int, list[str]]:
    """Pages from the oldest file to the end into ``out``; bytes written and gaps seen.

    A page is written in a thread while the next one is asked for and received.
    """
    cursor: dict[str, Any] | None = None
    done = 0
    gaps: list[str] = []
    stalls = 0
    encoding = EXACT
    writing: asyncio.Future[None] | None = None
    try:
        while True:
            params = {**target, "max_bytes": PAGE_BYTES, "encoding": encoding, "partial": True}
            params["wait_s"] = STALL_WAIT_S if stalls else 0.0
            if cursor is not None:
                params["cursor"] = cursor
            try:
                result = await call_again_after_drops(session, "logs.read", params)
            except AgentError as exc:
                if encoding != EXACT or not _refused_encoding(exc):
                    raise
                encoding = BASE64  # an agent from before "exact"
                continue
            data = page_bytes(result)
            if result.get("gap"):
                gaps.append(str(result.get("gap_reason") or "lines are missing"))
            if data:
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(_in_thread(_write, out, data))
                done += len(data)
                if progress is not None:
                    progress(done, total)
            cursor = result["cursor"]
            if result["eof"]:
                return done, gaps
            if data:
                stalls = 0
                continue
            # Nothing new: caught up with a running job, unless rotation is moving files.
            stalls += 1
            if total is None or done >= total or stalls >= STALLED_READS:
                return done, gaps
    finally:
        if writing is not None:
            await writing


def page_bytes(result: dict[str, Any]) -> bytes:
    """The exact bytes of a ``logs.read`` page read with ``exact`` or ``base64``."""
    if "text" in result:
        return str(result["text"]).encode("utf-8")
    return binascii.a2b_base64(result["data"])


def _refused_encoding(exc: AgentError) -> bool:
    return exc.code == protocol.INVALID_PARAMS and exc.data.get("field") == "encoding"


def _write(out: IO[bytes], data: bytes) -> None:
    try:
        out.write(data)
    except OSError as exc:
        raise LogSaveFailed(f"cannot write {out.name}: {exc.strerror or exc}") from exc


def _flush_and_sync(out: IO[bytes]) -> None:
    try:
        out.flush()
        os.fsync(out.fileno())
    except OSError as exc:
        raise LogSaveFailed(f"cannot write {out.name}: {exc.strerror or exc}") from exc


def _publish(part: Path, dest: Path, overwrite: bool) -> None:
    """Give the finished file its name; without ``overwrite`` never replace one."""
    try:
        if overwrite:
            os.replace(part, dest)
            return
        try:
            os.link(part, dest)  # fails if dest appeared meanwhile: nothing is replaced
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: check, then rename
            if dest.exists():
                raise FileExistsError(str(dest)) from None
            os.replace(part, dest)
            return
    except FileExistsError:
        raise LogFileExists(f"{dest} exists: choose another name, or overwrite it") from None
    except OSError as exc:
        raise LogSaveFailed(f"cannot save {dest}: {exc.strerror or exc}") from exc
    part.unlink()


async def _in_thread(func: Callable[..., T], *args: Any) -> T:
    """Run blocking file work in a thread; a cancel waits for it before cleaning up."""
    task = asyncio.ensure_future(asyncio.to_thread(func, *args))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise
