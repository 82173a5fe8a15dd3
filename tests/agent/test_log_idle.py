"""An idle followed log costs the agent (near) no CPU: it sleeps on inotify, never polls hot."""

from __future__ import annotations

import time

from agent.log_jobs import cpu_seconds
from support.agent import AgentProcess

IDLE_S = 5.0
CPU_BUDGET_S = 0.25  # a resource bound with a wide margin, not a speed goal


def test_following_a_quiet_log_costs_almost_no_cpu(agent: AgentProcess) -> None:
    job = agent.call("jobs.launch", {"name": "quiet", "command": "echo hi; sleep 60"})
    pid = agent.call("hello")["pid"]
    for options in ({}, {"partial": True, "line_limit": 65536}):
        agent.call("logs.subscribe", {"target": {"job": job["id"]}, "options": options})
        note = agent.notification()
        assert note["params"]["items"][0]["text"] == "hi\n"
    before = cpu_seconds(pid)
    time.sleep(IDLE_S)
    used = cpu_seconds(pid) - before
    assert agent.notifications.empty()
    assert used < CPU_BUDGET_S, f"two idle subscriptions used {used:.2f} s of CPU in {IDLE_S} s"
    agent.call("jobs.stop", {"id": job["id"], "grace_s": 1})
