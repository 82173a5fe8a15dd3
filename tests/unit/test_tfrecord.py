"""TFRecord framing without TensorFlow: records written by hand with struct and CRC32C."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest

from remote_agent import tfrecord
from remote_agent.tfrecord import FrameReader, crc32c_py, encode_record, mask


def read_all(reader: FrameReader, path: Path, max_bytes: int = -1) -> list[bytes]:
    with open(path, "rb") as f:
        return [record for batch in reader.batches(f, max_bytes) for record in batch]


def test_crc32c_matches_the_published_check_value() -> None:
    assert crc32c_py(b"123456789") == 0xE3069283
    assert crc32c_py(b"") == 0


def test_a_record_is_length_crc_data_crc() -> None:
    data = b"payload"
    record = encode_record(data)
    length, length_crc = struct.unpack_from("<QI", record)
    assert length == len(data)
    assert length_crc == mask(crc32c_py(record[:8]))
    assert record[12:-4] == data
    assert struct.unpack("<I", record[-4:])[0] == mask(crc32c_py(data))


def test_whole_records_then_a_partial_one_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "events"
    records = [f"record {i}".encode() * (i + 1) for i in range(5)]
    last = encode_record(b"the last one")
    path.write_bytes(b"".join(encode_record(r) for r in records) + last[:9])
    reader = FrameReader(data_crc=crc32c_py)
    assert read_all(reader, path) == records
    whole = reader.offset
    assert read_all(reader, path) == []  # nothing new, and not an error
    assert reader.offset == whole and reader.error is None
    with open(path, "ab") as f:
        f.write(last[9:-1])
    assert read_all(reader, path) == []  # still one byte short
    with open(path, "ab") as f:
        f.write(last[-1:])
    assert read_all(reader, path) == [b"the last one"]
    assert reader.offset == path.stat().st_size


def test_a_bad_data_crc_skips_and_counts_that_record_only(tmp_path: Path) -> None:
    path = tmp_path / "events"
    bad = bytearray(encode_record(b"damaged"))
    bad[-1] ^= 0xFF
    path.write_bytes(encode_record(b"a") + bytes(bad) + encode_record(b"b"))
    reader = FrameReader(data_crc=crc32c_py)
    assert read_all(reader, path) == [b"a", b"b"]
    assert reader.bad_records == 1 and reader.error is None


def test_without_a_data_check_only_the_length_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "events"
    bad = bytearray(encode_record(b"damaged"))
    bad[-1] ^= 0xFF
    path.write_bytes(bytes(bad))
    reader = FrameReader(data_crc=None)
    assert read_all(reader, path) == [b"damaged"]
    assert reader.bad_records == 0


def test_a_bad_length_crc_stops_the_file_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "events"
    bad = bytearray(encode_record(b"lost"))
    bad[8] ^= 0x01
    path.write_bytes(encode_record(b"first") + bytes(bad) + encode_record(b"after"))
    reader = FrameReader(data_crc=crc32c_py)
    assert read_all(reader, path) == [b"first"]
    assert reader.error is not None and "framing is lost" in reader.error
    stopped_at = reader.offset
    assert read_all(reader, path) == []  # stays stopped, does not loop
    assert reader.offset == stopped_at == len(encode_record(b"first"))


def test_records_larger_than_a_chunk_and_a_byte_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tfrecord, "CHUNK_BYTES", 64)
    path = tmp_path / "events"
    records = [bytes([i]) * size for i, size in enumerate([10, 200, 30, 30, 500, 5])]
    path.write_bytes(b"".join(encode_record(r) for r in records))
    reader = FrameReader(data_crc=crc32c_py)
    first = read_all(reader, path, max_bytes=100)
    assert first and first == records[: len(first)] and len(first) < len(records)
    assert first + read_all(reader, path) == records


def test_reading_resumes_from_a_cursor_offset() -> None:
    data = b"".join(encode_record(bytes([i]) * 3) for i in range(4))
    reader = FrameReader(offset=2 * len(encode_record(b"xyz")), data_crc=crc32c_py)
    batches = list(reader.batches(io.BytesIO(data)))
    assert [r for b in batches for r in b] == [b"\x02" * 3, b"\x03" * 3]
