"""Attach: which behaviour a job gets, and the tmux and OpenSSH argv for every field."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tfdash.config import HostConfig, TrustPolicy
from tfdash.models import Job, JobState
from tfdash.services.attach import (
    AttachCommand,
    AttachKind,
    attach_failure,
    attach_kind,
    local_attach,
    ssh_attach_argv,
    tmux_attach_argv,
)
from tfdash.transport.hostkeys import KnownHostsFiles

KNOWN = KnownHostsFiles(check=(Path("/k/known_hosts"),), record=Path("/k/known_hosts"))
SESSION = "tfdash-20261121-233501-3f9a"


def job(
    mode: str = "tmux", state: JobState = JobState.RUNNING, socket: str | None = "/s/default"
) -> Job:
    return Job(
        id="20261121-233501-3f9a",
        name="mnist",
        command="python train.py",
        cwd="/home/ml",
        state=state,
        mode=mode,
        tmux_session=SESSION if mode == "tmux" else None,
        tmux_socket=socket if mode == "tmux" else None,
    )


def option_values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == flag]


@pytest.mark.parametrize(
    ("mode", "state", "kind"),
    [
        ("tmux", JobState.RUNNING, AttachKind.TERMINAL),
        ("tmux", JobState.STARTING, AttachKind.TERMINAL),
        ("tmux", JobState.SUCCEEDED, AttachKind.LOG),
        ("tmux", JobState.FAILED, AttachKind.LOG),
        ("tmux", JobState.LOST, AttachKind.LOG),
        ("nohup", JobState.RUNNING, AttachKind.LOG),
        ("nohup", JobState.STOPPED, AttachKind.LOG),
    ],
)
def test_only_a_running_tmux_job_is_attached_to(
    mode: str, state: JobState, kind: AttachKind
) -> None:
    assert attach_kind(job(mode, state)) is kind


def test_tmux_attach_uses_the_recorded_socket() -> None:
    assert tmux_attach_argv(job()) == ["tmux", "-S", "/s/default", "attach-session", "-t", SESSION]


def test_a_job_without_a_recorded_socket_attaches_with_the_default_one() -> None:
    assert tmux_attach_argv(job(socket=None)) == ["tmux", "attach-session", "-t", SESSION]


def test_a_nohup_job_has_no_tmux_argv() -> None:
    with pytest.raises(ValueError, match="no tmux session"):
        tmux_attach_argv(job("nohup"))


def test_local_attach_leaves_an_enclosing_tmux() -> None:
    command = local_attach(job(), {"TMUX": "/x,1,0", "TMUX_PANE": "%1", "PATH": "/bin", "A": "b"})
    assert command.env == {"PATH": "/bin", "A": "b"}
    assert command.argv[1:] == ["-S", "/s/default", "attach-session", "-t", SESSION]
    assert Path(command.argv[0]).name == "tmux"
    assert not command.remote


def test_ssh_argv_of_a_host_with_every_field() -> None:
    host = HostConfig(
        name="gpu",
        host="gpu.example.org",
        port=2222,
        user="ml",
        identity=Path("/keys/id_ed25519"),
        proxy_jump="bastion.example.org",
        connect_timeout=7.5,
    )
    argv = ssh_attach_argv(
        host,
        tmux_attach_argv(job()),
        port=2222,
        known_hosts=KNOWN,
        ssh="/usr/bin/ssh",
        ssh_config=Path("/home/ml/.ssh/config"),
    )
    assert argv[:2] == ["/usr/bin/ssh", "-t"]
    assert option_values(argv, "-F") == ["/home/ml/.ssh/config"]
    assert option_values(argv, "-p") == ["2222"]
    assert option_values(argv, "-l") == ["ml"]
    assert option_values(argv, "-i") == ["/keys/id_ed25519"]
    assert option_values(argv, "-J") == ["bastion.example.org"]
    assert set(option_values(argv, "-o")) == {
        "IdentitiesOnly=yes",
        "UserKnownHostsFile=/k/known_hosts",
        "GlobalKnownHostsFile=/dev/null",
        "StrictHostKeyChecking=yes",
        "ConnectTimeout=8",
    }
    assert argv[-3:-1] == ["--", "gpu.example.org"]
    assert shlex.split(argv[-1]) == tmux_attach_argv(job())


def test_ssh_argv_of_a_bare_alias_leaves_the_rest_to_the_ssh_config() -> None:
    argv = ssh_attach_argv(
        HostConfig.alias("box"),
        ["tmux", "attach-session", "-t", SESSION],
        port=2222,
        known_hosts=KNOWN,
    )
    for flag in ("-F", "-l", "-i", "-J"):
        assert option_values(argv, flag) == []
    assert "IdentitiesOnly=yes" not in argv
    assert option_values(argv, "-p") == ["2222"]  # the dashboard's resolved port
    assert argv[-2:] == ["box", f"tmux attach-session -t {SESSION}"]


def test_ssh_argv_under_accept_new_and_several_known_hosts_files() -> None:
    files = KnownHostsFiles(
        check=(Path("/a/known hosts"), Path("/etc/ssh/ssh_known_hosts")),
        record=Path("/a/known hosts"),
    )
    host = HostConfig(name="b", host="b", trust=TrustPolicy.ACCEPT_NEW)
    argv = ssh_attach_argv(host, ["tmux"], port=22, known_hosts=files)
    options = option_values(argv, "-o")
    assert 'UserKnownHostsFile="/a/known hosts" /etc/ssh/ssh_known_hosts' in options
    assert "StrictHostKeyChecking=accept-new" in options


def test_a_remote_command_with_odd_characters_is_quoted_for_the_remote_shell() -> None:
    odd = job(socket="/tmp/my dir/$HOME;x")
    argv = ssh_attach_argv(
        HostConfig.alias("box"), tmux_attach_argv(odd), port=22, known_hosts=KNOWN
    )
    assert shlex.split(argv[-1]) == [
        "tmux",
        "-S",
        "/tmp/my dir/$HOME;x",
        "attach-session",
        "-t",
        SESSION,
    ]


@pytest.mark.parametrize(
    ("remote", "code", "says"),
    [
        (True, 255, "ssh could not connect or log in to gpu"),
        (True, 127, "tmux is not installed on gpu"),
        (True, 1, "press a again for its log"),
        (False, 1, "press a again for its log"),
        (False, 255, "press a again for its log"),
    ],
)
def test_a_failed_attach_names_the_command_its_code_and_a_fix(
    remote: bool, code: int, says: str
) -> None:
    command = AttachCommand(["ssh", "-t", "gpu", "tmux attach"], {}, host="gpu", remote=remote)
    message = attach_failure(command, code)
    assert message.startswith(f"`ssh -t gpu 'tmux attach'` exited with {code}: ")
    assert says in message
