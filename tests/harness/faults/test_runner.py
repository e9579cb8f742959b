"""The runner plays a schedule on an injected clock and always clears: at the end, on errors, on cancel."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from ground.clock import FakeClock
from ground.errors import FaultError
from harness.faults.base import FaultRegistry, FaultTargets
from harness.faults.runner import BackgroundFaults, FaultRunner
from harness.faults.schedule import FaultSchedule, at, every, plan
from harness.faults.timeline import FaultTimeline, read_timeline
from tests.fixtures.faults import Board

pytestmark = pytest.mark.timeout(60)


class HeldClock(FakeClock):
    """A fake clock that advances through short waits but holds long ones until the waiter is cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()

    async def sleep(self, seconds: float) -> None:
        if seconds > 100:
            self.holding.set()
            await asyncio.Event().wait()
        await super().sleep(seconds)


def make_runner(
    schedule: FaultSchedule, run_s: float, registry: FaultRegistry, path: Path, clock: FakeClock, **kwargs: object
) -> FaultRunner:
    timeline = FaultTimeline(path, clock=clock)
    return FaultRunner(
        plan(schedule, run_s, registry=registry),
        FaultTargets(),
        timeline,
        clock=clock,
        registry=registry,
        **kwargs,  # type: ignore[arg-type]
    )


def test_schedule_plays_on_the_fake_clock_and_logs_every_action(
    flags: FaultRegistry, flag_board: Board, fake_clock: FakeClock, tmp_path: Path
) -> None:
    start = fake_clock.now()
    schedule = FaultSchedule(
        faults=[at(60, "flag", target="a", duration=30), every(100, "flag", target="b", duration=10)]
    )
    runner = make_runner(schedule, 250, flags, tmp_path / "faults.jsonl", fake_clock)
    asyncio.run(runner.run())

    events = read_timeline(tmp_path / "faults.jsonl")
    timeline = [(e.action, e.target, round(e.at - start)) for e in events]
    assert timeline == [
        ("inject", "b", 0),
        ("clear", "b", 10),
        ("inject", "a", 60),
        ("clear", "a", 90),
        ("inject", "b", 100),
        ("clear", "b", 110),
        ("inject", "b", 200),
        ("clear", "b", 210),
    ]
    assert flag_board.active == set()
    injects = {e.fault_id for e in events if e.action == "inject"}
    assert injects == {e.fault_id for e in events if e.action == "clear"} and len(injects) == 4


def test_skipped_occurrence_is_noted_not_injected(
    flags: FaultRegistry, flag_board: Board, fake_clock: FakeClock
) -> None:
    schedule = FaultSchedule(seed=1, faults=[every(10, "flag", duration=1, probability=0.5)])
    runner = make_runner(schedule, 200, flags, Path("/dev/null"), fake_clock)
    asyncio.run(runner.run())
    notes = [e for e in runner.timeline.events if e.action == "note"]
    injects = [e for e in runner.timeline.events if e.action == "inject"]
    assert notes and injects and len(notes) + len(injects) == 20
    assert all("probability 0.5" in e.detail for e in notes)
    assert len(flag_board.calls) == 2 * len(injects)


def test_exception_mid_run_clears_active_faults(flags: FaultRegistry, flag_board: Board, fake_clock: FakeClock) -> None:
    schedule = FaultSchedule(
        faults=[at(10, "flag", target="long", duration=1000), at(20, "flag", target="bad", fail_inject=True)]
    )
    runner = make_runner(schedule, 2000, flags, Path("/dev/null"), fake_clock)
    with pytest.raises(FaultError, match="inject failed: RuntimeError: inject refused"):
        asyncio.run(runner.run())
    assert flag_board.active == set()
    actions = [(e.action, e.target) for e in runner.timeline.events]
    # The failed inject is recorded, then both faults get their clear (newest first), the failed one too.
    assert actions == [("inject", "long"), ("error", "bad"), ("clear", "bad"), ("clear", "long")]


def test_cancel_mid_run_clears_active_faults(flags: FaultRegistry, flag_board: Board) -> None:
    fake_clock = HeldClock()
    schedule = FaultSchedule(faults=[at(10, "flag", target="a", duration=1000)])
    runner = make_runner(schedule, 2000, flags, Path("/dev/null"), fake_clock)

    async def main() -> None:
        task = asyncio.create_task(runner.run())
        deadline = asyncio.get_running_loop().time() + 10.0
        for _ in range(10_000):  # bounded in count and time: the runner reaches its long wait in a few turns
            if fake_clock.holding.is_set() or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.001)
        assert fake_clock.holding.is_set(), "the runner never reached its long wait"
        assert flag_board.active == {"a"}
        task.cancel()  # what asyncio.run does on Ctrl-C
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert flag_board.active == set()
    assert [e.action for e in runner.timeline.events] == ["inject", "clear"]


def test_failed_clear_is_recorded_and_raised(flags: FaultRegistry, flag_board: Board, fake_clock: FakeClock) -> None:
    schedule = FaultSchedule(faults=[at(0, "flag", target="sticky", fail_clear=True)])
    runner = make_runner(schedule, 60, flags, Path("/dev/null"), fake_clock)
    with pytest.raises(FaultError, match="clear failed"):
        asyncio.run(runner.run(until_s=60))
    assert [(e.action, e.ok) for e in runner.timeline.events] == [("inject", True), ("error", False)]


def test_hung_action_times_out_and_is_recorded(flags: FaultRegistry, flag_board: Board, fake_clock: FakeClock) -> None:
    schedule = FaultSchedule(faults=[at(0, "flag", target="hung", hang_s=0.5)])
    runner = make_runner(schedule, 60, flags, Path("/dev/null"), fake_clock, action_timeout_s=0.05)
    with pytest.raises(FaultError, match=r"did not finish within 0\.05 s"):
        asyncio.run(runner.run())
    errors = [e for e in runner.timeline.events if e.action == "error"]
    assert errors[0].detail == "inject did not finish within 0.05 s"


def test_background_runner_clears_when_the_with_block_raises(flags: FaultRegistry, flag_board: Board) -> None:
    fake_clock = HeldClock()
    schedule = FaultSchedule(faults=[at(0, "flag", target="bg", duration=10_000)])
    runner = make_runner(schedule, 20_000, flags, Path("/dev/null"), fake_clock)
    seen = []
    runner.timeline.add_listener(seen.append)
    with pytest.raises(KeyboardInterrupt), BackgroundFaults(runner):
        assert fake_clock.holding.wait(10)
        assert flag_board.active == {"bg"}
        raise KeyboardInterrupt  # Ctrl-C in the main thread while faults run in the background
    assert flag_board.active == set()
    assert [e.action for e in seen] == ["inject", "clear"]


def test_unknown_target_is_refused_before_anything_runs(fake_clock: FakeClock) -> None:
    from ground.errors import ConfigError
    from harness.faults import REGISTRY

    schedule = FaultSchedule(faults=[at(1, "process-kill", target="ghost")])
    with pytest.raises(ConfigError, match="no process target named 'ghost'"):
        make_runner(schedule, 10, REGISTRY, Path("/dev/null"), fake_clock)
