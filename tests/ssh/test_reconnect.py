"""Links that die under a running stream: resets and blackholes, over a real sshd.

The job keeps running through every cut, and the followed output has every line
exactly once, in order — checked against the log file on the host itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.faultproxy import FaultProxy
from support.sessions import wait_for_state
from support.ssh_client import ClientSide, host_config, remote_home
from support.sshd import SshServer

from tfdash.models import HostState, JobSpec, JobState, LaunchMode
from tfdash.services.jobs import JobsService
from tfdash.services.logs import LogFollower
from tfdash.transport.session import HostSession
from tfdash.transport.ssh import SshTransport

CUTS = 20
WAIT_S = 60.0
SEQUENCE = "i=0; while true; do i=$((i+1)); echo seq-$i; sleep 0.01; done"


@pytest.fixture
def proxies(sshd: SshServer, client: ClientSide) -> Iterator[list[FaultProxy]]:
    """Two fault proxies in front of the sshd, each a "host" the client trusts."""
    started = [FaultProxy("127.0.0.1", sshd.port).start() for _ in range(2)]
    for proxy in started:
        client.trust(sshd, port=proxy.port)
    yield started
    for proxy in started:
        proxy.close()


def session_through(proxy: FaultProxy, sshd: SshServer, name: str) -> HostSession:
    # Pings every second (timeout 2 s) and quick retries keep the 20 cuts short.
    host = host_config(sshd, name=name, port=proxy.port)
    return HostSession(
        name, SshTransport(host), ping_interval=1.0, backoff_initial=0.2, backoff_max=1.0
    )


async def wait_for_more(lines: list[str], than: int, timeout: float = WAIT_S) -> None:
    async with asyncio.timeout(timeout):
        while len(lines) <= than:
            await asyncio.sleep(0.05)


def lines_on_disk(sshd: SshServer, job_id: str) -> list[str]:
    job_dir = remote_home(sshd) / "jobs" / job_id
    rotated = sorted(job_dir.glob("output.log.*"), key=lambda p: -int(p.suffix[1:]))
    return "".join(p.read_text() for p in [*rotated, job_dir / "output.log"]).splitlines()


class Follower:
    """Follows a job's log in a task, counting resumptions."""

    def __init__(self, session: HostSession, job_id: str) -> None:
        self.lines: list[str] = []
        self.resumed = 0
        self.task = asyncio.create_task(self._run(session, job_id))

    async def _run(self, session: HostSession, job_id: str) -> None:
        pending = ""
        async for chunk in LogFollower(session, job_id):
            self.resumed += chunk.reconnected
            *whole, pending = (pending + chunk.text).split("\n")
            self.lines.extend(whole)


async def test_twenty_resets_and_blackholes_lose_and_repeat_nothing(
    sshd: SshServer, proxies: list[FaultProxy]
) -> None:
    proxy = proxies[0]
    session = session_through(proxy, sshd, "box")
    await session.start()
    jobs = JobsService(session)
    try:
        job = await jobs.launch(JobSpec(name="seq", command=SEQUENCE, mode=LaunchMode.NOHUP))
        follower = Follower(session, job.id)
        for cut in range(CUTS):
            await wait_for_state(session, HostState.CONNECTED)
            await wait_for_more(follower.lines, len(follower.lines))
            if cut % 2 == 0:
                proxy.abort()  # a reset: the client hears of it at once
            else:
                proxy.freeze()  # a blackhole: only keepalive and pings can tell
                await wait_for_state(session, HostState.RECONNECTING, timeout=10.0)
                proxy.thaw()
        await wait_for_state(session, HostState.CONNECTED)
        await wait_for_more(follower.lines, len(follower.lines))
        still = await jobs.get(job.id)
        assert still.state is JobState.RUNNING
        assert still.pid == job.pid  # the same process ran through every cut
        await jobs.stop(job.id, grace_s=2)
        await asyncio.wait_for(follower.task, WAIT_S)
    finally:
        await session.close()
    assert proxy.connections >= CUTS + 1
    assert follower.resumed >= CUTS
    on_disk = lines_on_disk(sshd, job.id)
    assert follower.lines == on_disk
    assert on_disk == [f"seq-{i}" for i in range(1, len(on_disk) + 1)]


async def test_a_frozen_host_does_not_stall_another(
    sshd: SshServer, proxies: list[FaultProxy]
) -> None:
    frozen_proxy, live_proxy = proxies
    frozen = session_through(frozen_proxy, sshd, "frozen")
    live = session_through(live_proxy, sshd, "live")
    await asyncio.gather(frozen.start(), live.start())
    try:
        job = await JobsService(live).launch(
            JobSpec(name="live", command=SEQUENCE, mode=LaunchMode.NOHUP)
        )
        follower = Follower(live, job.id)
        await wait_for_more(follower.lines, 0)
        frozen_proxy.freeze()
        stuck = asyncio.create_task(frozen.call("jobs.list", timeout=None))
        # While the frozen host is stuck, the live one answers and its stream flows.
        for _ in range(5):
            seen = len(follower.lines)
            async with asyncio.timeout(5.0):
                await live.call("ping")
            await wait_for_more(follower.lines, seen, timeout=5.0)
        assert not stuck.done()
        await wait_for_state(frozen, HostState.RECONNECTING, timeout=10.0)
        frozen_proxy.thaw()
        assert isinstance(await asyncio.wait_for(stuck, WAIT_S), dict)  # repeated once back
        await JobsService(live).stop(job.id, grace_s=2)
        await asyncio.wait_for(follower.task, WAIT_S)
    finally:
        await asyncio.gather(frozen.close(), live.close())
    assert follower.lines == lines_on_disk(sshd, job.id)


def test_lines_on_disk_reads_rotated_files_oldest_first(tmp_path: Path) -> None:
    class FakeServer:
        root = tmp_path

    job_dir = tmp_path / "tfdash-home" / "jobs" / "j"
    job_dir.mkdir(parents=True)
    (job_dir / "output.log.2").write_text("a\n")
    (job_dir / "output.log.1").write_text("b\n")
    (job_dir / "output.log").write_text("c\n")
    assert lines_on_disk(FakeServer(), "j") == ["a", "b", "c"]  # type: ignore[arg-type]
