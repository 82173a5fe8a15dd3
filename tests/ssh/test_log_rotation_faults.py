"""Following a log that logrotate rotates every half second while the SSH link is cut.

Debian's logrotate rotates ``app.log`` of a sequence-numbered writer (a job on the host,
4,000 lines a second) while the client's LogFollower follows it over a real sshd through
the fault proxy, which resets the link and blackholes it several times meanwhile. Each
resume subscribes again from the last cursor, whose file may have been renamed or
compressed since. Create modes: every line exactly once, in order. Copytruncate: every
line logrotate did not destroy exactly once, every loss after a reported gap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.faultproxy import FaultProxy
from support.rotation import MODES, LineTally, Rig, needs_logrotate
from support.sessions import wait_for_state
from support.ssh_client import ClientSide, host_config
from support.sshd import SshServer
from support.sshd_fixtures import SYSTEM_PYTHON

from tfdash.models import HostState, JobSpec, LaunchMode
from tfdash.services.jobs import JobsService
from tfdash.services.logs import LogFollower
from tfdash.transport.session import HostSession
from tfdash.transport.ssh import SshTransport

pytestmark = needs_logrotate
RATE = 4000
WRITE_S = 9
COUNT = RATE * WRITE_S
CUTS = ("reset", "freeze", "reset", "freeze", "reset")
WAIT_S = 60.0


@pytest.fixture
def proxy(sshd: SshServer, client: ClientSide) -> Iterator[FaultProxy]:
    started = FaultProxy("127.0.0.1", sshd.port).start()
    client.trust(sshd, port=started.port)
    yield started
    started.close()


class Follower:
    """Follows ``app.log`` of a job in a task, tallying lines and counting resumptions."""

    def __init__(self, session: HostSession, job_id: str) -> None:
        self.tally = LineTally()
        self.resumed = 0
        self.task = asyncio.create_task(self._run(session, job_id))

    async def _run(self, session: HostSession, job_id: str) -> None:
        async for chunk in LogFollower(session, job_id, file="app.log"):
            self.resumed += chunk.reconnected
            if chunk.gap is not None:
                self.tally.gap(chunk.gap)
            self.tally.add(chunk.text)

    async def more_lines(self) -> None:
        seen = len(self.tally.numbers)
        async with asyncio.timeout(WAIT_S):
            while len(self.tally.numbers) <= seen:
                await asyncio.sleep(0.05)


def writing(rig: Rig) -> bool:
    """Whether the writer process is still alive (it ends once COUNT lines are written)."""
    pid_file = rig.work / "writer.pid"
    with contextlib.suppress(FileNotFoundError, ValueError):
        return Path(f"/proc/{int(pid_file.read_text())}").exists()
    return True  # not started yet


async def cut_while_writing(
    session: HostSession, proxy: FaultProxy, follower: Follower, rig: Rig
) -> int:
    """Reset or blackhole the link (CUTS, in turn) while the writer runs; how many were made."""
    made = 0
    for kind in CUTS:
        await wait_for_state(session, HostState.CONNECTED)
        await follower.more_lines()
        await asyncio.sleep(0.3)  # let a rotation or two pass on this connection
        if not writing(rig):
            break
        if kind == "reset":
            proxy.abort()
        else:
            proxy.freeze()  # only keepalive and pings can tell
            await wait_for_state(session, HostState.RECONNECTING, timeout=10.0)
            await asyncio.sleep(0.3)  # rotations go on while the link is dead
            proxy.thaw()
        made += 1
    return made


@pytest.mark.parametrize("mode_name", list(MODES))
async def test_rotations_under_resets_and_blackholes(
    sshd: SshServer, proxy: FaultProxy, mode_name: str
) -> None:
    mode = MODES[mode_name]
    root = sshd.root / "rotation"
    root.mkdir()
    rig = Rig(root, mode.config_options(root / "work"), owner=sshd.user, interval_s=0.5)
    host = host_config(sshd, port=proxy.port)
    session = HostSession(
        "box", SshTransport(host), ping_interval=1.0, backoff_initial=0.2, backoff_max=1.0
    )
    await session.start()
    try:
        command = rig.writer_command(mode.writer, COUNT, RATE, SYSTEM_PYTHON)
        spec = JobSpec(name="writer", command=command, cwd=str(rig.work), mode=LaunchMode.NOHUP)
        job = await JobsService(session).launch(spec)
        follower = Follower(session, job.id)  # app.log may not exist yet: the stream waits
        with rig:
            cuts = await cut_while_writing(session, proxy, follower, rig)
            await asyncio.wait_for(follower.task, WAIT_S)
    finally:
        await session.close()
    tally = follower.tally
    assert cuts >= 3, "the writer ended before the link was cut a few times"
    assert proxy.connections >= cuts + 1
    # A cut right as the job ends may find the stream already over: nothing to resume.
    assert follower.resumed >= min(cuts - 1, 3)
    assert len(rig.runs) >= 10
    if mode.options != "copytruncate":
        assert tally.numbers == list(range(1, COUNT + 1))
        assert tally.gaps == []
        return
    assert tally.numbers == sorted(set(tally.numbers))  # in order, no duplicates
    assert tally.unexplained == []  # every jump came after a reported gap
    assert tally.gaps and all("copytruncate" in reason for reason in tally.gaps)
    missed = rig.numbers_on_disk() - set(tally.numbers)  # all logrotate did not destroy
    assert not missed, (rig.where_on_disk(missed), tally.gaps)
    assert set(tally.numbers) <= set(range(1, COUNT + 1))
    assert tally.numbers[-1] == COUNT
