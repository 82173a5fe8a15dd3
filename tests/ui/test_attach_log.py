"""`a` Attach in Pilot: a nohup job's log opens full-screen and esc/q return; a tmux job
asks for a terminal the headless test driver cannot hand over, and says what to run."""

from __future__ import annotations

from typing import Any

from ui.dashboard_queries import WaitFor, wait_connected

from tfdash.app import TfdashApp
from tfdash.models import JobSpec, LaunchMode
from tfdash.screens.job_detail import JobDetailScreen
from tfdash.screens.log_follow import LogFollowScreen
from tfdash.screens.main import MainScreen

SIZE = (120, 40)


async def test_a_opens_a_nohup_jobs_log_full_screen_and_esc_returns(
    app: TfdashApp, wait_for: WaitFor
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, wait_for)
        screen = app.main_screen
        assert screen.check_action("attach", ()) is None  # no job: dimmed
        spec = JobSpec(name="plain", command="echo line-one; sleep 60", mode=LaunchMode.NOHUP)
        job = await app.jobs_services["local"].launch(spec)
        await wait_for(pilot, lambda: screen.highlighted is not None, "the job highlighted")
        assert screen.check_action("attach", ()) is True

        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, LogFollowScreen), "the log screen")
        follow = app.screen
        assert isinstance(follow, LogFollowScreen)
        await wait_for(pilot, lambda: "line-one" in follow.log_view.lines, "the job's output")
        assert follow.log_view.has_focus  # its keys work at once
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "the dashboard again")
        assert screen.highlighted is not None and screen.highlighted[1].id == job.id

        await pilot.press("enter")  # the job screen: ctrl+a (its log owns "a"); q goes back too
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen), "the job")
        detail = app.screen
        await pilot.press("ctrl+a")
        await wait_for(pilot, lambda: isinstance(app.screen, LogFollowScreen), "the log again")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.screen is detail, "the job screen again")


async def test_a_on_a_tmux_job_without_a_terminal_says_how_to_attach(
    app: TfdashApp, wait_for: WaitFor, notifications: list[dict[str, Any]]
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, wait_for)
        spec = JobSpec(name="in-tmux", command="sleep 60", mode=LaunchMode.TMUX)
        job = await app.jobs_services["local"].launch(spec)
        screen = app.main_screen
        await wait_for(pilot, lambda: screen.highlighted is not None, "the job highlighted")
        await pilot.press("a")
        await wait_for(pilot, lambda: notifications, "a notification")
        assert notifications[-1]["title"] == "Cannot attach here"
        assert f"tfdash attach {job.id} --host local" in notifications[-1]["message"]
        assert isinstance(app.screen, MainScreen)
