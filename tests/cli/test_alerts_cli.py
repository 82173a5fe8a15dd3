"""`tfdash alerts`: new alerts once, then none; `--all` every one (a real local agent)."""

from __future__ import annotations

import json
import time
from typing import Any

from cli.conftest import RunCli


def alerts(tfdash: RunCli, *args: str) -> list[dict[str, Any]]:
    done = tfdash("alerts", "--json", *args)
    assert done.returncode == 0, done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def test_new_alerts_are_printed_once_and_all_stay_listed(tfdash: RunCli) -> None:
    started = tfdash("run", "--nohup", "--name", "bad", "--", "exit", "3")
    assert started.returncode == 0, started.stderr
    deadline = time.monotonic() + 60
    while not any(a["kind"] == "ended" for a in alerts(tfdash, "--all")):
        assert time.monotonic() < deadline, "the job never raised its ended alert"
        time.sleep(0.2)
    new = alerts(tfdash)
    assert [(a["kind"], a["message"], a["host"]) for a in new] == [
        ("ended", "bad failed (exit 3)", "local")
    ]
    assert alerts(tfdash) == []
    assert len(alerts(tfdash, "--all")) == 1
    text = tfdash("alerts")
    assert (text.returncode, text.stdout.strip()) == (0, "no new alerts")
