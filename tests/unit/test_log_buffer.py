"""LogBuffer: a bounded scrollback that returns the lines each append added."""

from __future__ import annotations

import pytest

from tfdash.services.logs import LogBuffer


def test_append_returns_the_new_lines_without_newlines() -> None:
    buffer = LogBuffer()
    assert buffer.append("epoch 1\nepoch 2\n") == ["epoch 1", "epoch 2"]
    assert buffer.append("epoch 3\n") == ["epoch 3"]
    assert list(buffer.lines) == ["epoch 1", "epoch 2", "epoch 3"]
    assert len(buffer) == 3


def test_a_final_line_without_newline_and_crlf_endings() -> None:
    buffer = LogBuffer()
    assert buffer.append("a\r\nb\r\nlast words") == ["a", "b", "last words"]
    assert buffer.append("") == []
    assert len(buffer) == 3


def test_blank_lines_and_carriage_returns_inside_a_line_are_kept() -> None:
    buffer = LogBuffer()
    assert buffer.append("\n1/50 loss\r2/50 loss\n\n") == ["", "1/50 loss\r2/50 loss", ""]


def test_the_buffer_keeps_only_the_last_max_lines() -> None:
    buffer = LogBuffer(max_lines=3)
    buffer.append("1\n2\n")
    assert buffer.append("3\n4\n") == ["3", "4"]
    assert list(buffer.lines) == ["2", "3", "4"]
    assert buffer.dropped == 1
    new = buffer.append("".join(f"{n}\n" for n in range(5, 11)))
    assert new == ["8", "9", "10"]
    assert list(buffer.lines) == ["8", "9", "10"]
    assert buffer.dropped == 7


def test_clear_empties_the_buffer() -> None:
    buffer = LogBuffer(max_lines=10)
    buffer.append("x\ny\n")
    buffer.clear()
    assert len(buffer) == 0
    assert list(buffer.lines) == []
    assert buffer.append("z\n") == ["z"]


def test_a_buffer_needs_room_for_a_line() -> None:
    with pytest.raises(ValueError, match="at least one line"):
        LogBuffer(max_lines=0)
