"""The checks of config.toml's values: each takes a parsed TOML value and returns it
converted, or raises ValueError saying what was expected (config.py adds file and line)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {describe(value)}")
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a port number, got {describe(value)}")
    if not 1 <= value <= 65535:
        raise ValueError(f"{value} is not a port number (1-65535)")
    return value


def identity(value: Any) -> Path:
    return Path(text(value)).expanduser()


def timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number of seconds, got {describe(value)}")
    if not value > 0:
        raise ValueError(f"must be more than 0 seconds, got {value}")
    return float(value)


def count(minimum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer, got {describe(value)}")
        if value < minimum:
            raise ValueError(f"must be {minimum} or more, got {value}")
        return value

    return check


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {describe(value)}")
    return value


def ansi(value: Any) -> str:
    if value not in ("render", "strip"):
        raise ValueError(f'expected "render" or "strip", got {value!r}')
    return str(value)


def fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number from 0 to 0.999, got {describe(value)}")
    if not 0 <= value < 1:
        raise ValueError(f"must be from 0 (off) to below 1, got {value}")
    return float(value)


def x_axis(value: Any) -> str:
    if value not in ("step", "relative", "wall"):
        raise ValueError(f'expected "step", "relative" or "wall", got {value!r}')
    return str(value)


def regex(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a regular expression string, got {describe(value)}")
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return value


def describe(value: Any) -> str:
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    kinds |= {list: "an array", dict: "a table"}
    return f"{kinds.get(type(value), type(value).__name__)} ({value!r})"


def bell(value: Any) -> str:
    if value not in ("errors", "all", "off"):
        raise ValueError(f'expected "errors", "all" or "off", got {value!r}')
    return str(value)


def idle_minutes(value: Any) -> int:
    minutes = count(0)(value)
    if minutes > 10080:
        raise ValueError(f"must be at most 10080 (a week), got {minutes}")
    return minutes
