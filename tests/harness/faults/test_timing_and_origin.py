"""Fault times on the load's clock: events timed at the action's start, the schedule counted from the load's
origin, a failed action recorded without ending the schedule, and a zero-length step cleared after its inject."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ground.clock import FakeClock
from harness.faults.base import FaultParams, FaultRegistry, FaultTargets, register_fault
from harness.faults.runner import BackgroundFaults, FaultRunner
from harness.faults.schedule import FaultSchedule, at, plan
from harness.faults.timeline import FaultTimeline, read_timeline
from harness.loadgen.start import read_load_start, write_load_start
from tests.fixtures.faults import Board

pytestmark = pytest.mark.timeout(60)


class SlowParams(FaultParams):
    inject_s: float = 0.0  # how long inject takes on the injected clock (a kill that waits for the exit)


def slow_registry(clock: FakeClock, calls: list[tuple[str, float]]) -> FaultRegistry:
    registry = FaultRegistry()

    @register_fault("slow", registry=registry)
    class Slow:
        Params: ClassVar[type[FaultParams]] = SlowParams
        name: ClassVar[str]

        def __init__(self, params: SlowParams) -> None:
            self.params = params

        @property
        def target(self) -> str:
            return "victim"

        @classmethod
        def build(cls, params: Any, targets: FaultTargets, target: str) -> Slow:
            return cls(params)

        def inject(self) -> None:
            calls.append(("inject", clock.now()))
            clock.advance(self.params.inject_s)

        def clear(self) -> None:
            calls.append(("clear", clock.now()))

    return registry


def runner_for(schedule: FaultSchedule, run_s: float, registry: FaultRegistry, clock: FakeClock) -> FaultRunner:
    timeline = FaultTimeline(None, clock=clock)
    occurrences = plan(schedule, run_s, registry=registry)
    return FaultRunner(occurrences, FaultTargets(), timeline, clock=clock, registry=registry)


def test_a_slow_inject_is_timed_at_its_start_and_carries_when_it_ended(tmp_path: Path) -> None:
    clock = FakeClock()
    calls: list[tuple[str, float]] = []
    registry = slow_registry(clock, calls)
    timeline = FaultTimeline(tmp_path / "faults.jsonl", clock=clock)
    fault = registry.get("slow").create({"inject_s": 5.0}, FaultTargets())
    started = clock.now()
    timeline.apply(fault, "inject", "slow-1")
    timeline.close()
    (event,) = read_timeline(tmp_path / "faults.jsonl")
    assert calls == [("inject", started)]
    assert event.at == started  # when the kill was sent, not when the process was gone
    assert event.ended_at == started + 5.0


def test_the_schedule_counts_from_the_load_origin_once_it_is_known() -> None:
    clock = FakeClock()
    calls: list[tuple[str, float]] = []
    runner = runner_for(FaultSchedule(faults=[at(8, "slow", duration=2)]), 30, slow_registry(clock, calls), clock)
    entered = clock.now()
    polls: list[float] = []

    def origin() -> float | None:
        # Locust takes 4.5 s to begin; then the load's start is 2 s in the future (its pool is spawning).
        polls.append(clock.now())
        return entered + 6.5 if clock.now() - entered >= 4.5 else None

    asyncio.run(runner.run(origin=origin, poll_s=0.5))
    load_start = entered + 6.5
    assert calls == [("inject", load_start + 8), ("clear", load_start + 10)]
    assert len(polls) == 10  # asked every 0.5 s until it knew
    note = runner.timeline.events[0]
    assert note.fault == "schedule-origin" and f"{load_start:.3f}" in note.detail


def test_the_origin_can_come_from_the_run_folder(tmp_path: Path) -> None:
    assert read_load_start(tmp_path, 0) is None
    write_load_start(tmp_path, 0, 1234.5, workers=2)
    assert read_load_start(tmp_path, 0) == 1234.5
    assert read_load_start(tmp_path, 1) is None
    (tmp_path / "load-start-p1.json").write_text("{not json")
    assert read_load_start(tmp_path, 1) is None  # half written: not known yet


def test_keep_going_records_a_failed_inject_and_plays_the_rest(flags: FaultRegistry, flag_board: Board) -> None:
    clock = FakeClock()
    schedule = FaultSchedule(
        faults=[at(10, "flag", target="bad", fail_inject=True, duration=5), at(20, "flag", target="good", duration=5)]
    )
    runner = runner_for(schedule, 60, flags, clock)
    asyncio.run(runner.run(keep_going=True))  # does not raise
    assert len(runner.failures) == 1 and "inject failed: RuntimeError: inject refused" in runner.failures[0]
    actions = [(e.action, e.target, e.ok) for e in runner.timeline.events]
    assert actions == [
        ("error", "bad", False),
        ("clear", "bad", True),  # a half-done inject still gets its clear
        ("inject", "good", True),
        ("clear", "good", True),
    ]
    error = runner.timeline.events[0]
    assert "RuntimeError: inject refused" in error.detail and error.ended_at is not None
    assert flag_board.active == set()


def test_background_faults_keep_going_do_not_raise_on_stop(flags: FaultRegistry, flag_board: Board) -> None:
    clock = FakeClock()
    schedule = FaultSchedule(faults=[at(0, "flag", target="sticky", fail_clear=True, duration=1)])
    runner = runner_for(schedule, 10, flags, clock)
    background = BackgroundFaults(runner, keep_going=True).start()
    while not background.done():
        background._thread.join(0.05)
    background.stop()  # the failed clear is in failures, not raised
    assert len(runner.failures) == 1 and "clear failed" in runner.failures[0]


def test_a_zero_length_step_is_cleared_right_after_its_inject(flags: FaultRegistry, flag_board: Board) -> None:
    clock = FakeClock()
    runner = runner_for(FaultSchedule(faults=[at(5, "flag", target="once")]), 60, flags, clock)
    start = clock.now()
    asyncio.run(runner.run(until_s=60))
    times = [(e.action, e.at - start) for e in runner.timeline.events]
    assert times == [("inject", 5.0), ("clear", 5.0)]  # not left active until the end of the run
