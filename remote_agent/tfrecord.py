"""Incremental TFRecord framing: whole records from a byte offset, CRC-checked as far as is cheap.

A record is ``uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)``
(little-endian). A partial record at the end of a file is a record still being written: it is
left for the next read. With a C CRC32C (``google_crc32c`` or ``crc32c``) every record's data
is checked; without one only the 8 length bytes are (pure Python: ~0.2 s per MB of data would
be too slow for big files), and a damaged payload shows up as a protobuf parse failure instead.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO, Callable, Iterator

HEADER = struct.Struct("<QI")
FOOTER = struct.Struct("<I")
HEADER_SIZE = HEADER.size  # 12
FOOTER_SIZE = FOOTER.size  # 4
CHUNK_BYTES = 4 << 20
MAX_RECORD_BYTES = 256 << 20
"""A length above this is taken as lost framing, not as a record to wait for."""

CRC_FULL = "crc32c"
CRC_LENGTH = "length-only"
CRC_PYTHON = "crc32c-python"
_MASK_DELTA = 0xA282EAD8


def _make_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _make_table()


def crc32c_py(data: bytes) -> int:
    """CRC32C (Castagnoli) in pure Python: for a few bytes, not for payloads."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def mask(crc: int) -> int:
    """TFRecord's masked CRC (so a CRC of data holding CRCs does not degenerate)."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def _c_crc32c() -> Callable[[bytes], int] | None:
    try:
        import google_crc32c  # type: ignore[import-not-found, unused-ignore]

        if google_crc32c.implementation == "c":
            return google_crc32c.value  # type: ignore[no-any-return]
    except ImportError:
        pass
    try:
        import crc32c  # type: ignore[import-not-found, unused-ignore]

        return crc32c.crc32c  # type: ignore[no-any-return]
    except ImportError:
        return None


def _data_crc() -> tuple[Callable[[bytes], int] | None, str]:
    """The data check and its name; ``TFDASH_SCALARS_CRC`` = ``python`` forces the pure-Python
    check of every record (slow: small logdirs), ``length`` the length-only one."""
    choice = os.environ.get("TFDASH_SCALARS_CRC", "auto")
    if choice == "python":
        return crc32c_py, CRC_PYTHON
    found = _c_crc32c() if choice != "length" else None
    return (found, CRC_FULL) if found is not None else (None, CRC_LENGTH)


DATA_CRC, CRC_MODE = _data_crc()


def crc_mode() -> str:
    """Which check is in force: ``crc32c`` or ``crc32c-python`` (every record's data and
    length) or ``length-only``."""
    return CRC_MODE


def encode_record(data: bytes) -> bytes:
    """One framed record (tests and benches write files with it)."""
    length = struct.pack("<Q", len(data))
    return length + FOOTER.pack(mask(crc32c_py(length))) + data + FOOTER.pack(mask(crc32c_py(data)))


class FrameReader:
    """Whole records of one file from ``offset`` on; the offset always sits on a record start.

    ``bad_records`` counts records skipped for a bad data CRC; ``error`` is set (and reading
    stops for good) when a bad length CRC means the framing is lost.
    """

    def __init__(
        self,
        offset: int = 0,
        data_crc: Callable[[bytes], int] | None = DATA_CRC,
    ) -> None:
        self.offset = offset
        self.bad_records = 0
        self.error: str | None = None
        self._data_crc = data_crc
        self._length_ok: dict[int, int] = {}  # length → its masked CRC (lengths repeat)

    def batches(self, f: BinaryIO, max_bytes: int = -1) -> Iterator[list[bytes]]:
        """Payloads of whole records after ``offset``, a chunk's worth at a time (up to about
        ``max_bytes``; -1: to the end)."""
        budget = max_bytes
        while budget != 0 and self.error is None:
            f.seek(self.offset)
            chunk = f.read(CHUNK_BYTES if budget < 0 else min(CHUNK_BYTES, budget))
            start = self.offset
            records = self._walk(chunk, f)
            if records:
                yield records
            used = self.offset - start
            if used == 0:
                return  # the end, or only a partial record: wait for the rest
            if budget > 0:
                budget = max(0, budget - used)

    def _walk(self, chunk: bytes, f: BinaryIO) -> list[bytes]:
        """The whole records of ``chunk`` (one larger than a chunk is read whole from ``f``)."""
        out: list[bytes] = []
        pos = 0
        size = len(chunk)
        unpack_header = HEADER.unpack_from
        unpack_footer = FOOTER.unpack_from
        length_ok = self._length_ok
        data_crc = self._data_crc
        start = self.offset
        while size - pos >= HEADER_SIZE:
            length, length_crc = unpack_header(chunk, pos)
            if length_ok.get(length) != length_crc:
                if mask(crc32c_py(chunk[pos : pos + 8])) != length_crc or length > MAX_RECORD_BYTES:
                    self.error = (
                        f"bad length CRC at byte {start + pos}: the framing is lost, "
                        "the rest of this file is not read"
                    )
                    break
                length_ok[length] = length_crc
            end = pos + HEADER_SIZE + length + FOOTER_SIZE
            if end > size:
                if pos > 0:
                    break  # the next chunk starts at this record
                record = self._read_whole(f, start, end)
                if record is None:
                    break  # still being written
                chunk, size = record, len(record)
            data = chunk[pos + HEADER_SIZE : end - FOOTER_SIZE]
            pos = end
            if data_crc is not None and mask(data_crc(data)) != unpack_footer(chunk, end - 4)[0]:
                self.bad_records += 1
                continue
            out.append(data)
        self.offset = start + pos
        return out

    @staticmethod
    def _read_whole(f: BinaryIO, start: int, end: int) -> bytes | None:
        f.seek(start)
        record = f.read(end)
        return record if len(record) == end else None
