"""The dashboard over many real SSH hosts at once: one freezes, the others go on.

Each host is a real OpenSSH sshd on loopback (logging in as the unprivileged test user
where possible); a fault proxy in front of one freezes its link like a closed laptop lid.
The app is built as the CLI builds it: config.toml → build_manager(hooks) → make_app.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.faultproxy import FaultProxy
from support.ssh_client import ClientSide, ServerFactory
from support.sshd import SshServer
from textual.widgets import Select
from ui.dashboard_queries import (
    SIZE,
    WaitFor,
    host_row,
    host_state_text,
    job_ids_in_table,
    job_table,
    log_lines,
    table_cell,
    type_into,
    wait_connected,
)
from ui.ssh_dashboard import UploadCall, dashboard, host_entry

from tfdash.models import JobSpec, LaunchMode
from tfdash.screens.launch import LaunchScreen
from tfdash.widgets.host_list import HostRow
from tfdash.widgets.log_view import LogView

TICKER = "for i in $(seq 1 100000); do echo a-$i; sleep 0.1; done"


@pytest.fixture
def proxied(
    client: ClientSide, start_sshd: ServerFactory
) -> Iterator[list[tuple[SshServer, FaultProxy]]]:
    """Two sshd's, each behind a fault proxy whose port the client trusts."""
    pairs = []
    for _ in range(2):
        server = start_sshd()
        proxy = FaultProxy("127.0.0.1", server.port).start()
        client.trust(server, port=proxy.port)
        pairs.append((server, proxy))
    yield pairs
    for _, proxy in pairs:
        proxy.close()


async def test_two_hosts_one_frozen_the_others_keep_updating(
    client: ClientSide,
    proxied: list[tuple[SshServer, FaultProxy]],
    wait_for: WaitFor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (alpha_server, alpha_proxy), (beta_server, beta_proxy) = proxied
    uploads: list[UploadCall] = []
    rows_showing_upload: set[str] = set()
    real_show_upload = HostRow.show_upload

    def show_upload(row: HostRow, sent: int, total: int) -> None:
        real_show_upload(row, sent, total)
        if row.uploading:
            rows_showing_upload.add(row.status.name)

    monkeypatch.setattr(HostRow, "show_upload", show_upload)
    entries = [
        host_entry("alpha", alpha_server, alpha_proxy.port),
        host_entry("beta", beta_server, beta_proxy.port),
    ]
    app = dashboard(client, entries, uploads)
    async with app.run_test(size=SIZE) as pilot:
        for host in ("local", "alpha", "beta"):
            await wait_connected(pilot, wait_for, host)
        # The first connect uploaded the agent to both hosts, and the rows showed it.
        for host in ("alpha", "beta"):
            sent = [(done, total) for name, done, total in uploads if name == host]
            assert sent[0][0] == 0 and sent[-1][0] == sent[-1][1] > 0
        assert rows_showing_upload == {"alpha", "beta"}

        ticker = await app.jobs_services["alpha"].launch(
            JobSpec(name="ticker", command=TICKER, mode=LaunchMode.NOHUP)
        )
        await wait_for(pilot, lambda: len(log_lines(app)) >= 3, "the ticker's log")
        assert table_cell(app, ticker.id, "host", host="alpha") == "alpha"

        alpha_proxy.freeze()
        await wait_for(
            pilot,
            lambda: host_state_text(app, "alpha").startswith("reconnecting"),
            "alpha to show it reconnects",
        )
        table = job_table(app)
        assert table is not None and table.is_stale("alpha") and not table.is_stale("beta")
        log = app.main_screen.query_one("#log", LogView)
        assert log.border_subtitle == "reconnecting…"
        kept = log_lines(app)

        # Meanwhile beta answers as usual: its new job shows up and runs to its end.
        quick = await app.jobs_services["beta"].launch(
            JobSpec(name="quick", command="echo beta; sleep 1", mode=LaunchMode.NOHUP)
        )
        await wait_for(
            pilot,
            lambda: table_cell(app, quick.id, "state", host="beta") == "succeeded",
            "beta's job to end while alpha is frozen",
        )
        assert host_state_text(app, "alpha").startswith("reconnecting")
        assert "data " in host_state_text(app, "alpha", part=".host-details")
        assert table_cell(app, ticker.id, "state", host="alpha") == "running"  # last known
        assert log_lines(app)[: len(kept)] == kept

        alpha_proxy.thaw()
        await wait_connected(pilot, wait_for, "alpha")
        assert not table.is_stale("alpha")
        await wait_for(pilot, lambda: len(log_lines(app)) > len(kept) + 5, "the log to go on")
        lines = log_lines(app)
        assert lines == [f"a-{i}" for i in range(1, len(lines) + 1)]  # none lost, none twice

        # Launching goes to the host selected in the hosts pane.
        await pilot.click(host_row(app, "beta"))
        assert app.main_screen.selected_host == "beta"
        await pilot.press("n")
        assert isinstance(app.screen, LaunchScreen) and app.screen.host == "beta"
        await type_into(pilot, "#launch-name", "from-the-form")
        await type_into(pilot, "#launch-command", "echo launched-on-beta")
        app.screen.query_one("#launch-mode", Select).value = LaunchMode.NOHUP
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(job_ids_in_table(app)) == 3, "the new job's row")
        new_id = next(i for i in job_ids_in_table(app) if i not in (ticker.id, quick.id))
        assert table_cell(app, new_id, "name", host="beta") == "from-the-form"
