"""Messages as JSON lines, with big string values spliced in rather than re-encoded.

``json.dumps`` scans every character of a string it escapes and then the whole line is
encoded and copied again; for an 8 MiB ``logs.read`` page that is most of the reply's
cost. A reply value of type ``RawJsonString`` (bytes already valid inside a JSON string:
base64, or UTF-8 text escaped by ``json_string_bytes``) is written as it is, between the
encoded rest of the message.
"""

from __future__ import annotations

import json
from typing import Any

_UNSAFE = bytes(range(0x20)) + b'"\\'
_SAFE = bytes(b for b in range(256) if b not in _UNSAFE)
_ESCAPES = {b: f"\\u{b:04x}".encode("ascii") for b in range(0x20)}
_ESCAPES.update({0x08: b"\\b", 0x09: b"\\t", 0x0A: b"\\n", 0x0C: b"\\f", 0x0D: b"\\r"})
_ESCAPES.update({0x22: b'\\"', 0x5C: b"\\\\"})
# Beyond one byte in this many needing an escape, ``json.dumps`` is the faster way.
_REPLACE_DENSITY = 32


class RawJsonString:
    """UTF-8 bytes that are already valid inside a JSON string (base64 output, or
    ``json_string_bytes``); held, not copied (a ``bytes`` subclass would copy them)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def json_string_bytes(utf8: bytes) -> bytes:
    """The body of a JSON string (no quotes) holding the text of ``utf8``, which must be
    valid UTF-8. Log text needs few escapes, mostly ``\\n``: one ``bytes.replace`` per
    kind of byte that needs one is several times faster than ``json.dumps``."""
    unsafe = utf8.translate(None, _SAFE)  # the bytes that need an escape, in order
    if len(unsafe) * _REPLACE_DENSITY > len(utf8):
        text = json.dumps(utf8.decode("utf-8"), ensure_ascii=False)
        return text[1:-1].encode("utf-8")
    present = set(unsafe)
    if 0x5C in present:  # the backslash first: the other escapes add backslashes
        utf8 = utf8.replace(b"\\", b"\\\\")
        present.discard(0x5C)
    for byte in present:
        utf8 = utf8.replace(bytes((byte,)), _ESCAPES[byte])
    return utf8


def _dumps(value: Any) -> bytes:
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate came in from a client's JSON
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def encode(message: dict[str, Any]) -> list[bytes]:
    """One message as the pieces of one line (ending in ``\\n``), to write in order."""
    result = message.get("result")
    raw = {}
    if isinstance(result, dict):
        raw = {k: v for k, v in result.items() if isinstance(v, RawJsonString)}
    if not raw:
        return [_dumps(message), b"\n"]
    assert isinstance(result, dict)
    rest = {k: v for k, v in result.items() if k not in raw}
    envelope = _dumps({k: v for k, v in message.items() if k != "result"})
    pieces = [envelope[:-1] + b',"result":' + _dumps(rest)[:-1]]
    for index, (key, value) in enumerate(raw.items()):
        comma = b"," if rest or index else b""
        pieces += [comma + _dumps(key) + b':"', value.data, b'"']
    pieces.append(b"}}\n")
    return pieces
