"""`tfdash` (the dashboard over every configured host) and `tfdash demo` (local only)."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from tfdash import paths
from tfdash.cli.jobs import describe_end, launch_spec, stop_and_wait
from tfdash.config import LOCAL_HOST, Config, load_config
from tfdash.errors import UsageError
from tfdash.models import JobState
from tfdash.services.demo import demo_spec, find_example_script, tensorflow_available
from tfdash.services.ui_state import state_file
from tfdash.transport.hosts import build_manager
from tfdash.transport.manager import local_manager

DEMO_STOP_GRACE_S = 5.0


def app_settings(config: Config) -> dict[str, Any]:
    """make_app's settings from config.toml, and where the view is remembered."""
    return {
        "log_settings": config.logs,
        "scalar_settings": config.scalars,
        "keys": config.keys,
        "ui": config.ui,
        "state_path": state_file(),
        "alert_settings": config.alerts,
    }


def run_dashboard(args: argparse.Namespace) -> int:
    from tfdash.app import make_app
    from tfdash.screens.ssh_prompts import DashboardHooks

    # The terminal belongs to the dashboard: it asks for passphrases in a modal.
    hooks = DashboardHooks()
    config = load_config()
    manager = build_manager(config, local_home=paths.tfdash_home(args.home), hooks=hooks.ssh)
    app = make_app(manager, hooks=hooks, **app_settings(config))
    app.run()
    return app.return_code or 0


def run_demo(args: argparse.Namespace) -> int:
    script = find_example_script()
    if not tensorflow_available(sys.executable):
        raise UsageError(
            f"the demo trains with TensorFlow, which {sys.executable} cannot import: install "
            "it with `pip install -e '.[tf]'` in the tfdash checkout, or run `./dev.sh demo`"
        )
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="tfdash-demo-"))
    args.home = str(home)
    args.host = LOCAL_HOST
    workdir = home / "demo"
    workdir.mkdir(parents=True, exist_ok=True)
    spec = demo_spec(script, workdir, args.epochs)
    job = asyncio.run(launch_spec(args, spec))

    from tfdash.app import make_app

    config = load_config()
    app = make_app(local_manager(home), focus_job=job.id, **app_settings(config))
    quoted_home = shlex.quote(str(home))
    try:
        app.run()
    finally:
        if args.keep:
            print(f"The demo job {job.name} ({job.id}) keeps running.")
            print(f"  watch it:  tfdash --home {quoted_home}")
            print(f"  stop it:   tfdash --home {quoted_home} stop {job.id}")
        else:
            ended = asyncio.run(stop_and_wait(args, job.id, DEMO_STOP_GRACE_S))
            done = "Stopped" if ended.state is JobState.STOPPED else "Finished"
            print(f"{done} the demo job {job.name} ({job.id}): {describe_end(ended)}.")
        print(f"Its checkpoints and TensorBoard logs are in {workdir}.")
        print(f"The demo's TFDASH_HOME is {home} (remove it with: rm -rf {quoted_home}).")
    return app.return_code or 0
