"""`tfdash hosts`, `hosts check`, `hosts trust` and `--host` through the real CLI and sshd."""

from __future__ import annotations

import json
import pwd
import subprocess
import sys
from typing import Any

import pytest
from support.ssh_client import ClientSide, ServerFactory, known_line, remote_home
from support.sshd import SshServer, port_open

DEFAULT_PORT = 2222


def tfdash(
    client: ClientSide, *args: str, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """``python -m tfdash ARGS`` on the client side (no terminal: nothing is asked)."""
    return subprocess.run(
        [sys.executable, "-m", "tfdash", *args],
        env=client.environment(),
        cwd=str(client.home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr}"
    return result.stdout


def host_table(server: SshServer, name: str = "box", port: int | None = None) -> str:
    """A [hosts.NAME] table logging in to ``server`` (no port line when ``port`` is 0)."""
    port_line = "" if port == 0 else f"port = {port or server.port}\n"
    return (
        f'[hosts.{name}]\nhost = "127.0.0.1"\n{port_line}user = "{server.user}"\n'
        f'identity = "{server.client_key}"\ntfdash_home = "{remote_home(server)}"\n\n'
    )


def test_hosts_lists_local_and_the_configured_hosts(client: ClientSide) -> None:
    client.write_ssh_config("Host gpu-alias\n  HostName 10.1.2.3\n  Port 2200\n  User ml\n")
    client.write_tfdash_config(
        '[hosts.gpu]\nhost = "gpu-alias"\ntrust = "accept-new"\n\n'
        '[hosts.plain]\nhost = "10.9.9.9"\nuser = "me"\n'
    )
    table = ok(tfdash(client, "hosts")).splitlines()
    assert table[0].split() == ["NAME", "HOST", "PORT", "USER", "TRUST"]
    assert table[1].split()[:3] == ["local", "(embedded", "agent)"]
    assert table[2].split() == ["gpu", "gpu-alias", "2200", "ml", "accept-new"]
    assert table[3].split() == ["plain", "10.9.9.9", "2222", "me", "known-hosts"]
    listed = json.loads(ok(tfdash(client, "hosts", "--json")))
    assert [host["name"] for host in listed] == ["local", "gpu", "plain"]
    assert listed[1]["port"] == 2200 and listed[1]["tfdash_home"] == "~/.tfdash"


def test_a_config_error_names_the_file_and_line_and_exits_2(client: ClientSide) -> None:
    client.write_tfdash_config('[hosts.gpu]\nhost = "x"\nprot = 22\n')
    result = tfdash(client, "hosts")
    assert result.returncode == 2
    assert f"{client.config_path}, line 3: unknown key 'prot'" in result.stderr


def test_hosts_check_bootstraps_once_and_prints_the_handshake(
    client: ClientSide, sshd: SshServer
) -> None:
    client.trust(sshd)
    client.write_tfdash_config(host_table(sshd))
    first = ok(tfdash(client, "hosts", "check", "box"))
    assert first.startswith("box: connected in ")
    assert f"(ssh {sshd.user}@127.0.0.1:{sshd.port})" in first
    assert "uploaded just now" in first
    assert f"user          {sshd.user}" in first
    assert "python        3." in first
    report: dict[str, Any] = json.loads(ok(tfdash(client, "hosts", "check", "box", "--json")))
    assert report["bootstrap"]["uploaded"] is False  # the second connect reuses the agent
    assert report["hello"]["user"] == sshd.user
    assert report["hello"]["tfdash_home"] == str(remote_home(sshd))
    assert report["hello"]["protocol_version"] == 1
    assert report["seconds"] > 0


def test_hosts_check_of_an_unknown_key_exits_2_with_the_way_to_trust_it(
    client: ClientSide, sshd: SshServer
) -> None:
    client.write_tfdash_config(host_table(sshd))
    result = tfdash(client, "hosts", "check", "box")
    assert result.returncode == 2
    assert "tfdash: Unknown host key:" in result.stderr
    assert "tfdash hosts trust box" in result.stderr


def test_hosts_trust_records_the_key_after_yes(client: ClientSide, sshd: SshServer) -> None:
    client.write_tfdash_config(host_table(sshd))
    refused = tfdash(client, "hosts", "trust", "box")
    assert refused.returncode == 2  # no terminal to ask on, and no --yes
    assert "--yes" in refused.stderr
    assert not client.known_hosts.exists()
    trusted = ok(tfdash(client, "hosts", "trust", "box", "--yes"))
    assert "SHA256:" in trusted
    assert client.known_hosts.read_text() == known_line(sshd, sshd.port)
    again = ok(tfdash(client, "hosts", "trust", "box"))
    assert "is trusted" in again
    assert client.known_hosts.read_text() == known_line(sshd, sshd.port)


def test_run_jobs_logs_over_ssh_on_the_default_port(
    client: ClientSide, start_sshd: ServerFactory
) -> None:
    """The one end-to-end test on port 2222, the port configs leave out."""
    if port_open(DEFAULT_PORT):
        pytest.skip(f"port {DEFAULT_PORT} is taken on this machine")
    server = start_sshd(port=DEFAULT_PORT)
    client.trust(server)
    client.write_tfdash_config(host_table(server, name="e2e", port=0))
    job_id = ok(
        tfdash(
            client,
            "--host",
            "e2e",
            "run",
            "--nohup",
            "--name",
            "count",
            "--",
            "echo from $(hostname); seq 1 5",
        )
    ).strip()
    assert ok(tfdash(client, "logs", "--host", "e2e", "-f", job_id)).splitlines()[1:] == [
        str(n) for n in range(1, 6)
    ]
    [job] = json.loads(ok(tfdash(client, "jobs", "--host", "e2e", "--json")))
    assert job["id"] == job_id
    assert job["state"] == "succeeded"
    assert job["cwd"] == pwd.getpwnam(server.user).pw_dir  # the remote $HOME, not ours
    assert job["job_dir"].startswith(str(remote_home(server)))
    assert json.loads(ok(tfdash(client, "jobs", "--json"))) == []  # local has no such job
    ok(tfdash(client, "rm", "--host", "e2e", job_id))
    assert json.loads(ok(tfdash(client, "--host", "e2e", "jobs", "--json"))) == []


def test_hosts_trust_walks_every_unknown_key_on_the_way_through_a_jump_host(
    client: ClientSide, start_sshd: ServerFactory
) -> None:
    target, jump = start_sshd(), start_sshd()
    client.write_ssh_config(
        f"Host trainer\n  HostName 127.0.0.1\n  Port {target.port}\n  User {target.user}\n"
        f"  IdentityFile {target.client_key}\n  ProxyJump hop\n\n"
        f"Host hop\n  HostName 127.0.0.1\n  Port {jump.port}\n  User {jump.user}\n"
        f"  IdentityFile {jump.client_key}\n"
    )
    refused = tfdash(client, "hosts", "check", "trainer")
    assert refused.returncode == 2
    assert f"[127.0.0.1]:{jump.port}" in refused.stderr  # the jump host's key comes first
    output = ok(tfdash(client, "hosts", "trust", "trainer", "--yes"))
    assert output.count("Recorded in") == 2
    assert client.known_hosts.read_text() == known_line(jump, jump.port) + known_line(
        target, target.port
    )
