"""OutputScanner: the same alerts whatever the chunking, and the lines that matter found."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from remote_agent.alertwatch import MAX_LINE_BYTES, OutputScanner

Alert = tuple[str, str, str, object]

TRACEBACK = (
    b"Traceback (most recent call last):\n"
    b'  File "train.py", line 3, in <module>\n'
    b"    model.fit(x)\n"
    b"ValueError: bad shape\n"
)
OOM = b"2026-11-22 W tensorflow: OOM when allocating tensor with shape[512,512]\n"
PLAIN = b"epoch 1 step 20 loss 0.25\n"
BAR = b"\r12/500 [=====>....] - ETA: 3s - loss: 0.3\x08\x1b[1m"


def scan(chunks: list[bytes]) -> list[Alert]:
    found: list[Alert] = []
    scanner = OutputScanner(lambda *alert: found.append(alert))
    for chunk in chunks:
        scanner.feed(chunk)
    scanner.flush()
    return found


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({0, len(data), *(p % (len(data) + 1) for p in points)})
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def test_a_traceback_and_an_oom_line_in_plain_output() -> None:
    alerts = scan([PLAIN * 50 + BAR * 10 + TRACEBACK + PLAIN + OOM + OOM + PLAIN])
    assert [(kind, message) for kind, _, message, _ in alerts] == [
        ("traceback", "ValueError: bad shape"),
        ("oom", "2026-11-22 W tensorflow: OOM when allocating tensor with shape[512,512]"),
    ]
    assert "model.fit(x)" in str(alerts[0][3])


def test_a_marker_past_the_line_limit_is_not_read() -> None:
    huge = b"x" * (MAX_LINE_BYTES + 10) + b" OOM when allocating\n"
    assert scan([huge + PLAIN]) == []


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.sampled_from([PLAIN, BAR, TRACEBACK, OOM, b"\n", b"\xff\xfe"]), max_size=30),
    points=st.lists(st.integers(min_value=0, max_value=4000), max_size=12),
)
def test_any_chunking_gives_the_alerts_of_the_whole(parts: list[bytes], points: list[int]) -> None:
    data = b"".join(parts)
    assert scan(cut(data, points)) == scan([data])
