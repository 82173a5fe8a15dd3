"""A ``logs.read`` page as the wire has it: text, base64 or exact, encoded once.

The page's bytes become the reply's ``text`` (UTF-8, invalid bytes replaced) or
``data`` (base64), spliced into the reply line without another pass of ``json.dumps``
(``wire.RawJsonString``). ``exact`` sends ``text`` when the bytes are valid UTF-8 (the
text then encodes back to exactly them, and costs a third less than base64 on the wire
and far less to decode) and ``data`` otherwise.
"""

from __future__ import annotations

import base64
from typing import Any

from .follow import FollowRead
from .linecut import render
from .logopts import BASE64, TEXT, cursor_wire
from .wire import RawJsonString, json_string_bytes

EXACT = "exact"
ENCODINGS = [TEXT, BASE64, EXACT]
EXACT_BYTES = (BASE64, EXACT)
"""The encodings that promise the exact bytes (and so refuse ``line_limit``)."""


def _valid_utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text(utf8: bytes) -> RawJsonString:
    return RawJsonString(json_string_bytes(utf8))


def page_reply(read: FollowRead, encoding: str) -> dict[str, Any]:
    """The ``text`` or ``data`` of one read (and its ``cuts``), ready for ``wire.encode``."""
    if encoding == BASE64 or (encoding == EXACT and not _valid_utf8(read.data)):
        return {"data": RawJsonString(base64.b64encode(read.data))}
    if encoding == EXACT or (not read.cuts and _valid_utf8(read.data)):
        return {"text": _text(read.data)}
    text, cuts = render(read.data, [(at, cursor_wire(line)) for at, line in read.cuts])
    reply: dict[str, Any] = {"text": _text(text.encode("utf-8"))}
    if cuts:
        reply["cuts"] = cuts
    return reply


def has_news(reply: dict[str, Any]) -> bool:
    """Whether a reply hands out anything: bytes, cuts, or the end."""
    body = reply.get("text", reply.get("data"))
    size = len(body.data) if isinstance(body, RawJsonString) else len(body or "")
    return bool(size or reply.get("cuts") or reply.get("eof"))
