"""Schedules: Python builders, YAML with file/line/field messages, and seeded, deterministic plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from ground.errors import ConfigError
from harness.faults.base import FaultRegistry
from harness.faults.schedule import (
    MAX_OCCURRENCES,
    FaultSchedule,
    at,
    every,
    load_schedule,
    parse_duration,
    plan,
    randomly,
)


def test_durations_accept_units_and_plain_seconds() -> None:
    assert parse_duration("250ms") == 0.25
    assert parse_duration("90") == 90.0
    assert parse_duration("5m") == 300.0
    assert parse_duration("1h") == 3600.0
    assert parse_duration(12) == 12.0
    with pytest.raises(ValueError, match="30s, 250ms"):
        parse_duration("soon")


def test_at_every_and_window_expand_to_occurrences(flags: FaultRegistry) -> None:
    schedule = FaultSchedule(
        seed=3,
        faults=[
            at(60, "flag", target="a", duration=30),
            every("5m", "flag", target="b", start="1m", duration="20s"),
            randomly(("1m", "4m"), "flag", target="c", count=3, duration=5),
        ],
    )
    occurrences = plan(schedule, 900, registry=flags)
    by_target = {t: [o.at_s for o in occurrences if o.target == t] for t in "abc"}
    assert by_target["a"] == [60.0]
    assert by_target["b"] == [60.0, 360.0, 660.0]
    assert len(by_target["c"]) == 3 and all(60 <= t < 240 for t in by_target["c"])
    assert [o.at_s for o in occurrences] == sorted(o.at_s for o in occurrences)
    assert {o.duration_s for o in occurrences if o.target == "b"} == {20.0}


def test_plan_is_the_same_for_the_same_seed_and_differs_for_another(flags: FaultRegistry) -> None:
    def times(seed: int) -> list[float]:
        schedule = FaultSchedule(seed=seed, faults=[randomly((0, 1000), "flag", count=5, probability=0.5)])
        return [o.at_s for o in plan(schedule, 1000, registry=flags) if o.happens]

    assert times(1) == times(1)
    assert times(1) != times(2)


def test_probability_skips_some_occurrences_reproducibly(flags: FaultRegistry) -> None:
    schedule = FaultSchedule(seed=9, faults=[every(10, "flag", duration=1, probability=0.3)])
    occurrences = plan(schedule, 10_000, registry=flags)
    happened = sum(o.happens for o in occurrences)
    assert len(occurrences) == 1000
    assert 200 < happened < 400  # binomial(1000, 0.3): 300 ± 6 sigma
    assert [o.happens for o in plan(schedule, 10_000, registry=flags)] == [o.happens for o in occurrences]


def test_occurrences_past_the_run_are_dropped(flags: FaultRegistry) -> None:
    schedule = FaultSchedule(faults=[at(600, "flag"), every(60, "flag", duration=1)])
    assert [o.at_s for o in plan(schedule, 120, registry=flags)] == [0.0, 60.0]


def test_entry_needs_exactly_one_timing() -> None:
    with pytest.raises(ValueError, match="exactly one of 'at', 'every' or 'window'"):
        FaultSchedule.model_validate({"faults": [{"fault": "flag", "at": 1, "every": 5}]})
    with pytest.raises(ValueError, match="must be longer than 'duration'"):
        every(10, "flag", duration=10)


def test_yaml_schedule_loads_and_validates_params(tmp_path: Path, flags: FaultRegistry) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("seed: 4\nfaults:\n  - fault: flag\n    target: x\n    at: 1m\n    duration: 30s\n")
    schedule = load_schedule(path, registry=flags)
    assert schedule.faults[0].at == 60.0 and schedule.faults[0].duration == 30.0


def test_yaml_errors_name_file_line_field_and_fix(tmp_path: Path, flags: FaultRegistry) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("faults:\n  - fault: flag\n    at: 1m\n    duration: forever\n")
    with pytest.raises(ConfigError) as info:
        load_schedule(path, registry=flags)
    message = str(info.value)
    assert str(path) in message and ":4:" in message and "faults.0.duration" in message and "30s" in message

    path.write_text("faults:\n  - fault: nope\n    at: 1m\n")
    with pytest.raises(ConfigError, match=r"faults\.0\.fault.*'nope'.*Fix: use one of: flag"):
        load_schedule(path, registry=flags)

    path.write_text("faults:\n  - fault: flag\n    at: 1m\n    params: {probability: 2}\n")
    with pytest.raises(ConfigError, match=r"faults\.0\.params\.probability.*2.*Fix: use a smaller value"):
        load_schedule(path, registry=flags)


def test_an_every_entry_happens_at_most_as_often_as_a_window_may(tmp_path: Path, flags: FaultRegistry) -> None:
    """``every: 0.000001`` once planned 50,000 occurrences for 0.05 s; like a window's ``count``, an entry now
    happens at most ``MAX_OCCURRENCES`` times, and the refusal names the file, the field and a period that fits."""
    path = tmp_path / "faults.yaml"
    path.write_text("faults:\n  - fault: flag\n    every: 0.000001\n")
    schedule = load_schedule(path, registry=flags)  # valid on its own: the run's length decides
    with pytest.raises(ConfigError) as info:
        plan(schedule, 60, registry=flags, source=str(path))
    message = str(info.value)
    assert info.value.exit_code == 2
    assert f"{path}: field 'faults.0.every' has value 1e-06" in message
    assert f"at most {MAX_OCCURRENCES} times" in message and "Fix: use an 'every' of at least 0.06 s" in message
    fits = FaultSchedule(faults=[every(0.06, "flag")])
    assert len(plan(fits, 60, registry=flags)) == MAX_OCCURRENCES  # the period the fix names is enough
    with pytest.raises(ValueError, match="less than or equal to 1000"):
        randomly((0, 60), "flag", count=MAX_OCCURRENCES + 1)  # the window's cap is the same number
