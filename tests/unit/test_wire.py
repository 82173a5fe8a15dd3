"""The agent's reply encoding: escaped text spliced into a line parses back to the text."""

from __future__ import annotations

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from remote_agent import wire

# Log-like text: mostly printable, with the characters that need escapes mixed in.
log_text = st.text(
    st.one_of(
        st.characters(exclude_categories=["Cs"]),
        st.sampled_from('\n\r\b\t\x1b\x00"\\/é✓\u2028\x7f'),
    ),
    max_size=400,
)


@settings(max_examples=300)
@given(log_text)
@example("plain line\n" * 200)  # sparse escapes: the bytes.replace way
@example("\b" * 50 + "\r" + '"\\' * 20)  # dense escapes: the json.dumps way
def test_escaped_text_parses_back_to_itself(text: str) -> None:
    body = wire.json_string_bytes(text.encode("utf-8"))
    assert json.loads(b'"' + body + b'"') == text


@given(log_text)
def test_a_spliced_reply_is_one_line_that_parses_whole(text: str) -> None:
    raw = wire.RawJsonString(wire.json_string_bytes(text.encode("utf-8")))
    message = {"jsonrpc": "2.0", "id": 3, "result": {"eof": False, "text": raw, "cuts": [1]}}
    line = b"".join(wire.encode(message))
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {**message, "result": {"eof": False, "text": text, "cuts": [1]}}
