"""An alert of a failed job on an SSH host reaches `tfdash alerts`, once."""

from __future__ import annotations

import json
import time

from ssh.test_hosts_cli import host_table, ok, tfdash
from support.ssh_client import ClientSide
from support.sshd import SshServer


def test_a_failed_remote_job_alerts_the_client(client: ClientSide, sshd: SshServer) -> None:
    client.trust(sshd)
    client.write_tfdash_config(host_table(sshd))
    code = "raise ValueError('bad shape')"
    job_id = ok(
        tfdash(
            client,
            "--host",
            "box",
            "run",
            "--nohup",
            "--name",
            "bad",
            "--",
            "python3",
            "-c",
            f'"{code}"',
        )
    ).strip()
    deadline = time.monotonic() + 60
    while True:
        every = json.loads(ok(tfdash(client, "alerts", "--host", "box", "--all", "--json")))
        if any(alert["kind"] == "ended" for alert in every):
            break
        assert time.monotonic() < deadline, f"no ended alert: {every}"
        time.sleep(0.5)
    new = json.loads(ok(tfdash(client, "alerts", "--host", "box", "--json")))
    assert {(a["job"], a["kind"], a["message"], a["host"]) for a in new} == {
        (job_id, "traceback", "ValueError: bad shape", "box"),
        (job_id, "ended", "bad failed (exit 1)", "box"),
    }
    assert json.loads(ok(tfdash(client, "alerts", "--host", "box", "--json"))) == []
