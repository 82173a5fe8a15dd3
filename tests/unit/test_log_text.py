"""LogText: terminal collapse, the live line, bounded scrollback, paging in, indexes."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tfdash.models import LogCursor, LogCut
from tfdash.services.log_text import LogText
from tfdash.services.terminal_line import terminal_line

CURSOR = LogCursor(inode=7, offset=100)


def plains(text: LogText) -> list[str]:
    return [line.plain for line in text.lines]


def test_carriage_returns_and_backspaces_collapse_like_a_terminal() -> None:
    text = LogText()
    text.feed("1/3 [=>...]\r2/3 [==>..]\r3/3 [=====] - loss: 0.12\n")
    text.feed("abc\b\bXY\n")
    text.feed("100%\r5\n")  # a shorter redraw leaves the rest of the old one
    text.feed("done\r\n")
    assert plains(text) == ["3/3 [=====] - loss: 0.12", "aXY", "500%", "done"]


def test_colours_survive_a_redraw_of_the_whole_line() -> None:
    text = LogText()
    text.feed("\x1b[31mold red\x1b[0m\r\x1b[32mnew\x1b[0m green!\n")
    line = text.lines[0]
    assert line.plain == "new green!"
    assert line.text == "\x1b[32mnew\x1b[0m green!"


def test_colour_set_on_one_line_carries_to_the_next() -> None:
    text = LogText()
    text.feed("\x1b[33mwarning starts\nstill yellow\x1b[0m plain\nplain\n")
    assert [line.text for line in text.lines] == [
        "\x1b[33mwarning starts",
        "\x1b[33mstill yellow\x1b[0m plain",
        "plain",
    ]


def test_an_escape_split_between_chunks_is_kept_whole() -> None:
    text = LogText()
    text.feed("a\x1b[3")
    text.feed("2mb\x1b[0m\n")
    assert text.lines[0].text == "a\x1b[32mb\x1b[0m"
    assert text.lines[0].plain == "ab"


def test_erase_to_end_of_line_clears_what_the_cursor_passed() -> None:
    assert terminal_line("long text here\rshort\x1b[K") == "short"
    assert terminal_line("abcdef\r\x1b[2Kxy") == "xy"


def test_the_live_line_updates_in_place_and_becomes_a_line_at_newline() -> None:
    text = LogText()
    assert text.feed("Epoch 1/2\n 1/50 [>....]") == 1
    assert text.live is not None and text.live.plain == " 1/50 [>....]"
    assert text.shown_count() == 2
    text.feed("\r25/50 [==>..]")
    assert text.live is not None and text.live.plain == "25/50 [==>..]"
    assert len(text) == 1
    assert text.feed("\r50/50 [=====] loss: 0.1\nEpoch 2/2\n") == 2
    assert text.live is None
    assert plains(text) == ["Epoch 1/2", "50/50 [=====] loss: 0.1", "Epoch 2/2"]


def test_ten_thousand_redraws_keep_one_terminal_line() -> None:
    text = LogText()
    for step in range(10_000):
        text.feed(f"\r{step + 1}/10000 loss: {step}")
    assert len(text) == 0
    assert text.live is not None and text.live.plain == "10000/10000 loss: 9999"
    text.feed("\n")
    assert plains(text) == ["10000/10000 loss: 9999"]


def test_scrollback_is_bounded_and_counts_what_it_dropped() -> None:
    text = LogText(max_lines=3)
    text.feed("".join(f"line {i}\n" for i in range(5)))
    assert plains(text) == ["line 2", "line 3", "line 4"]
    assert text.dropped == 2 and text.first_seq == 2
    assert text.line(4).plain == "line 4"


def test_prepend_puts_earlier_lines_above_and_keeps_the_newest_when_full() -> None:
    text = LogText(max_lines=4)
    text.feed("c\nd\n")
    assert text.prepend("a\nb\n") == 2
    assert plains(text) == ["a", "b", "c", "d"]
    assert text.first_seq == -2
    assert text.prepend("older\n") == 0  # full: the newest lines stay
    assert plains(text) == ["a", "b", "c", "d"]
    room = LogText(max_lines=3)
    room.feed("z\n")
    assert room.prepend("w\nx\ny\n") == 2  # only the lines nearest the present fit
    assert plains(room) == ["x", "y", "z"]


def test_error_lines_are_indexed_as_they_arrive() -> None:
    text = LogText()
    text.feed("ok\nTraceback (most recent call last):\nloss: NaN\nERRORS are fine\n")
    text.feed("ResourceExhaustedError: OOM when allocating\nKilled\nfinancial\n")
    assert text.errors == [1, 2, 4, 5]
    assert text.next_error(None) == 1
    assert text.next_error(2) == 4
    assert text.previous_error(4) == 2
    assert text.previous_error(None) == 5
    assert text.next_error(5) is None


def test_error_word_split_by_a_colour_is_still_found() -> None:
    text = LogText()
    text.feed("\x1b[31mERR\x1b[0mOR here\n")
    assert text.errors == [0]


def test_filter_matches_are_maintained_incrementally_and_trimmed() -> None:
    text = LogText(max_lines=4)
    text.set_filter(r"keep")
    text.feed("keep 1\ndrop\nkeep 2\n")
    assert text.matches == [0, 2]
    text.feed("keep 3\ndrop\nkeep 4\n")
    assert text.matches == [2, 3, 5]  # line 0 was pushed out
    assert text.shown_count() == 3
    assert [text.shown_seq(i) for i in range(3)] == [2, 3, 5]
    assert text.shown_index(4) == 1  # the nearest shown line before a hidden one
    text.set_filter(None)
    assert text.shown_count() == 4


def test_search_goes_forward_and_back_from_a_line() -> None:
    text = LogText()
    text.feed("a1\nb\na2\nb\na3\n")
    pattern = re.compile(r"a\d")
    assert text.search(pattern, -1) == 0
    assert text.search(pattern, 0) == 2
    assert text.search(pattern, 4) is None
    assert text.search(pattern, 4, backward=True) == 2
    assert text.search(pattern, 5, backward=True) == 4


def test_an_invalid_filter_raises_and_keeps_the_previous_one() -> None:
    text = LogText()
    text.set_filter("ok")
    try:
        text.set_filter("(")
    except re.error:
        pass
    else:
        raise AssertionError("an invalid regex must be refused")
    assert text.filter is not None and text.filter.pattern == "ok"


def test_cuts_mark_their_line_with_the_cursor_and_what_was_shown() -> None:
    text = LogText()
    chunk = "short\n" + "x" * 10 + "\nafter\n"
    text.feed(chunk, cuts=[LogCut(at=16, line=CURSOR)])
    cut = text.lines[1]
    assert cut.cut == CURSOR and cut.shown_chars == 10
    assert text.lines[0].cut is None and text.lines[2].cut is None


def test_a_cut_in_the_live_line_stays_when_the_line_completes() -> None:
    text = LogText()
    text.feed("y" * 8, cuts=[LogCut(at=8, line=CURSOR)])
    assert text.live is not None and text.live.cut == CURSOR
    text.feed(" tail\n")
    assert text.lines[0].cut == CURSOR


def test_gaps_end_the_live_line_and_are_marked() -> None:
    text = LogText()
    text.feed("half a li")
    text.feed_gap("rotated away before it was read")
    assert plains(text) == ["half a li", "⋯ rotated away before it was read ⋯"]
    assert text.lines[1].gap and text.live is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab\r\x08\x1b[0;31mK\n\t\x00é", max_size=40), max_size=8))
def test_any_input_in_any_chunking_never_raises(chunks: list[str]) -> None:
    text = LogText(max_lines=5)
    text.set_filter("a")
    for chunk in chunks:
        text.feed(chunk, None, [LogCut(at=len(chunk) // 2, line=CURSOR)])
    text.prepend("".join(chunks))
    for seq in range(text.first_seq, text.end_seq):
        assert "\n" not in text.line(seq).plain
    assert len(text) <= 5


def test_clear_never_reuses_a_seq() -> None:
    """Views cache rendered rows by seq: another log's lines must get other numbers."""
    text = LogText()
    text.feed("one\ntwo\n")
    old = {text.first_seq, text.first_seq + 1}
    text.clear()
    text.feed("three\n")
    assert text.first_seq not in old and len(text) == 1
    assert text.line(text.first_seq).plain == "three"
