"""known_hosts: which lines hold a host's key (hashed, ported, wildcard), and appending one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

import asyncssh

from tfdash.errors import host_and_port
from tfdash.transport.hostkeys import known_hosts_line, record_host_key, recorded_lines
from tfdash.transport.ssh_connect import known_hosts_files


def new_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519").convert_to_public()


def hashed(name: str) -> str:
    """OpenSSH's HashKnownHosts form of a host name."""
    salt = os.urandom(20)
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def entry(pattern: str, key: asyncssh.SSHKey) -> str:
    algorithm, data = key.export_public_key("openssh").decode().split()[:2]
    return f"{pattern} {algorithm} {data}\n"


def test_the_lines_for_a_host_on_its_port_are_found(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(
        "# comment\n"
        + entry("[other]:2222", new_key())
        + entry("[gpu]:2222", new_key())
        + "\n"
        + entry(hashed("[gpu]:2222"), new_key())
        + entry("gpu", new_key())  # port 22: hidden by the [gpu]:2222 entries
    )
    assert recorded_lines((path,), "gpu", "", 2222) == [(path, 3), (path, 5)]
    assert recorded_lines((path,), "gpu", "", 22) == [(path, 6)]
    assert recorded_lines((path,), "nobody", "", 2222) == []


def test_a_plain_host_entry_counts_for_other_ports_when_none_is_specific(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(entry("gpu,10.0.0.5", new_key()) + entry("*.lab", new_key()))
    assert recorded_lines((path,), "gpu", "", 2222) == [(path, 1)]
    assert recorded_lines((path,), "box.lab", "", 2222) == [(path, 2)]


def test_every_file_is_searched_and_missing_ones_are_skipped(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    second.write_text("# nothing\n" + entry("[gpu]:2200", new_key()))
    assert recorded_lines((first, second), "gpu", "", 2200) == [(second, 2)]


def test_recording_appends_a_line_and_creates_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "new-ssh-dir" / "known_hosts"
    key = new_key()
    line = known_hosts_line("127.0.0.1", 2222, key)
    assert line == entry("[127.0.0.1]:2222", key)
    record_host_key(path, line)
    assert path.read_text() == line
    assert (path.stat().st_mode & 0o777) == 0o600
    assert (path.parent.stat().st_mode & 0o777) == 0o700
    assert recorded_lines((path,), "127.0.0.1", "", 2222) == [(path, 1)]


def test_recording_after_a_last_line_without_newline_keeps_lines_apart(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(entry("old", new_key()).rstrip("\n"))
    line = known_hosts_line("gpu", 22, new_key())
    record_host_key(path, line)
    assert path.read_text().splitlines()[1] == line.rstrip("\n")
    assert host_and_port("gpu", 22) == "gpu"


def test_ssh_config_known_hosts_files_never_turn_checking_off(tmp_path: Path) -> None:
    default = Path.home() / ".ssh" / "known_hosts"
    assert known_hosts_files([], []).check == (default,)
    off = known_hosts_files(["none"], [])
    assert off.check == (default,) and off.record == default
    mine = known_hosts_files([str(tmp_path / "kh"), "~/kh2"], ["/etc/ssh/ssh_known_hosts"])
    assert mine.record == tmp_path / "kh"
    assert mine.check == (tmp_path / "kh", Path.home() / "kh2", Path("/etc/ssh/ssh_known_hosts"))
