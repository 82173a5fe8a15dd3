"""One terminal line: replays ``\\r``, ``\\b`` and escape sequences as a terminal would.

Progress bars (Keras, tqdm) redraw their line thousands of times; a terminal shows
only the last state, with the colours of the characters that are still on screen.
``TerminalLine`` keeps one cell per character with the SGR state it was written in,
so a line costs memory for its width only and each byte is looked at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
"""CSI (colours, cursor moves), OSC (titles, links) and two-byte escape sequences."""
SGR = re.compile(r"\x1b\[[0-9;:]*m")
"""Select Graphic Rendition: the escapes that set colours and attributes."""
_TOKEN = re.compile(
    r"(\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_]))"
    r"|(\r+)|(\x08+)|([^\r\x08\x1b]+)|\x1b"
)
# An escape sequence cut off at the end of a chunk: held until the next chunk.
_INCOMPLETE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?)?\Z")
RESET = "\x1b[0m"
_MAX_STYLE = 256
_MAX_HELD = 4096


def carry_style(style: str, sgrs: Iterable[str]) -> str:
    """The SGR state after ``sgrs``, as the escapes that rebuild it from a reset."""
    for sgr in sgrs:
        params = sgr[2:-1]
        if params in ("", "0"):
            style = ""
        elif params.startswith("0;") or len(style) + len(sgr) > _MAX_STYLE:
            style = sgr
        else:
            style += sgr
    return style


class TerminalLine:
    """The cells of the line being written, the cursor column and the colour state."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.active = False
        """Something was written since the last ``finish`` (the line is open)."""
        self._chars: list[str] = []
        self._styles: list[str] | None = None  # None while nothing was ever styled
        self._col = 0
        self._style = ""
        self._held = ""

    def feed(self, text: str) -> None:
        """Write ``text`` (no newline in it) at the cursor."""
        self.active = True
        if self._held:
            text = self._held + text
            self._held = ""
        incomplete = _INCOMPLETE.search(text)
        if incomplete is not None:
            held = text[incomplete.start() :]
            self._held = held if len(held) <= _MAX_HELD else ""
            text = text[: incomplete.start()]
        for escape, returns, backspaces, written in _TOKEN.findall(text):
            if written:
                self._write(written)
            elif returns:
                self._col = 0
            elif backspaces:
                self._col = max(0, self._col - len(backspaces))
            elif escape:
                self._escape(escape)

    def render(self) -> tuple[str, str]:
        """The line as shown so far: (text with SGR escapes, plain text)."""
        plain = "".join(self._chars)
        styles = self._styles
        if styles is None or not any(styles):
            return plain, plain
        out: list[str] = []
        current = ""
        for char, style in zip(self._chars, styles, strict=True):
            if style != current:
                out.append(RESET + style if current else style)
                current = style
            out.append(char)
        if current:
            out.append(RESET)
        return "".join(out), plain

    def finish(self) -> tuple[str, str, str]:
        """End the line: (text, plain text, the SGR state the next line starts in)."""
        text, plain = self.render()
        style = self._style
        self._reset()
        return text, plain, style

    def _write(self, written: str) -> None:
        col, end = self._col, self._col + len(written)
        self._chars[col:end] = written
        if self._style and self._styles is None:
            self._styles = [""] * len(self._chars)
        if self._styles is not None:
            self._styles[col:end] = [self._style] * len(written)
        self._col = end

    def _escape(self, escape: str) -> None:
        final = escape[-1]
        if escape[1] != "[":
            return  # OSC and two-byte escapes change nothing a log view shows
        if final == "m":
            self._style = carry_style(self._style, (escape,))
        elif final == "K":  # erase in line: 0 to the end, 1 to the cursor, 2 all of it
            mode = escape[2:-1] or "0"
            col = self._col
            if mode in ("1", "2"):
                blanks = min(col + (mode == "1"), len(self._chars))
                self._chars[:blanks] = " " * blanks
                if self._styles is not None:
                    self._styles[:blanks] = [""] * blanks
            if mode in ("0", "2"):
                del self._chars[col:]
                if self._styles is not None:
                    del self._styles[col:]


def terminal_line(line: str) -> str:
    """What a terminal shows for one line of program output, without its colours."""
    terminal = TerminalLine()
    terminal.feed(line)
    return terminal.finish()[1]


def split_log_text(text: str) -> list[str]:
    """Split whole lines (each ending in a newline) into what a terminal shows of each."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [terminal_line(line) for line in lines]
