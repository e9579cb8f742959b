"""Fault schedules: "at 60 s inject X for 30 s", "every 5 min", "random within a window, seeded".

Written in Python (:func:`at`, :func:`every`, :func:`randomly`) or in YAML, validated with
``ground.loading`` so a bad entry names its file, line, field, value and fix::

    seed: 7
    faults:
      - fault: process-kill
        target: primary
        at: 60s
        duration: 30s
        params: {restart: true}
      - fault: upstream-errors
        every: 5m
        start: 2m
        duration: 20s
        params: {code: 131000, probability: 0.5}
      - fault: proxy-latency
        target: vendor
        window: [1m, 4m]
        count: 2
        duration: 15s
        params: {latency_ms: 400, jitter_ms: 50}

:func:`plan` expands a schedule into concrete occurrences for a run of known length. The same schedule and
seed always give the same plan (``random.Random`` seeded per entry; never the global ``random``).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ground.durations import parse_duration
from ground.errors import ConfigError
from ground.loading import load_model, validate
from harness.faults.base import REGISTRY, FaultParams, FaultRegistry

Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
# Occurrences of one entry in a run: ``window``'s ``count`` is capped at this when the file is loaded; an ``every``
# entry's count depends on the run's length, so :func:`plan` refuses one that would happen more often.
MAX_OCCURRENCES = 1000


class ScheduleEntry(BaseModel):
    """One line of a schedule: which fault, on what, and when (exactly one of ``at``, ``every``, ``window``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fault: str
    target: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    at: Seconds | None = None
    every: Seconds | None = None
    start: Seconds = 0.0  # first occurrence of an ``every`` entry
    window: tuple[Seconds, Seconds] | None = None
    count: int = Field(1, ge=1, le=MAX_OCCURRENCES)  # occurrences drawn inside ``window``
    duration: Seconds = 0.0  # how long the fault stays before it is cleared; 0 = clear right after inject

    @model_validator(mode="after")
    def _one_timing(self) -> ScheduleEntry:
        given = [name for name in ("at", "every", "window") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of 'at', 'every' or 'window' (found {given or 'none'})")
        if self.every is not None and self.every <= self.duration:
            raise ValueError(f"'every' ({self.every:g} s) must be longer than 'duration' ({self.duration:g} s)")
        if self.window is not None and self.window[1] <= self.window[0]:
            raise ValueError(f"'window' end {self.window[1]:g} s must come after its start {self.window[0]:g} s")
        return self


class FaultSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    faults: list[ScheduleEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class Occurrence:
    """One planned fault: inject at ``at_s`` after the run starts, clear ``duration_s`` later."""

    at_s: float
    duration_s: float
    entry: int  # index of its schedule entry
    fault: str
    target: str
    params: FaultParams
    happens: bool  # False when its probability draw said no; the runner notes it and skips it

    @property
    def clear_at_s(self) -> float:
        return self.at_s + self.duration_s


def check(schedule: FaultSchedule, *, registry: FaultRegistry = REGISTRY, source: str = "<schedule>") -> None:
    """Every entry names a registered fault and valid parameters for it."""
    for index, entry in enumerate(schedule.faults):
        if entry.fault not in registry:
            raise ConfigError(
                "unknown fault",
                source=source,
                field=f"faults.{index}.fault",
                value=entry.fault,
                fix=f"use one of: {', '.join(registry.names())}",
            )
        registry.get(entry.fault).parse_params(entry.params, source=source, field_prefix=f"faults.{index}.params")


def load_schedule(path: Path | str, *, registry: FaultRegistry = REGISTRY) -> FaultSchedule:
    schedule = load_model(FaultSchedule, path)
    check(schedule, registry=registry, source=str(path))
    return schedule


def schedule_from_data(data: Any, *, source: str, registry: FaultRegistry = REGISTRY) -> FaultSchedule:
    """Validate an already-parsed mapping (for example the ``faults:`` block of a vendor profile)."""
    schedule = validate(FaultSchedule, data, source=source)
    check(schedule, registry=registry, source=source)
    return schedule


def _every_times(start: float, period: float, run_s: float) -> list[float] | None:
    """``start``, ``start + period``, ... before ``run_s``; None when they would be more than ``MAX_OCCURRENCES``."""
    times: list[float] = []
    t = start
    while t < run_s:
        if len(times) == MAX_OCCURRENCES:
            return None
        times.append(t)
        t += period
    return times


def _too_often(entry: ScheduleEntry, index: int, run_s: float, source: str) -> ConfigError:
    assert entry.every is not None
    span = run_s - entry.start
    shortest = math.ceil(round(span / MAX_OCCURRENCES * 1000, 6)) / 1000  # rounded up to the millisecond...
    while _every_times(entry.start, shortest, run_s) is None:  # ...and past any rounding of the sums
        shortest = round(shortest + 0.001, 3)
    return ConfigError(
        f"this entry would happen {math.ceil(span / entry.every)} times in a run of {run_s:g} s; an entry happens "
        f"at most {MAX_OCCURRENCES} times in a run (as a window's count)",
        source=source,
        field=f"faults.{index}.every",
        value=entry.every,
        fix=f"use an 'every' of at least {shortest:g} s for this run, or a later 'start', or a 'window' with a 'count'",
    )


def _times(entry: ScheduleEntry, index: int, run_s: float, rng: random.Random, source: str) -> list[float]:
    if entry.at is not None:
        return [entry.at] if entry.at < run_s else []
    if entry.every is not None:
        times = _every_times(entry.start, entry.every, run_s)
        if times is None:
            raise _too_often(entry, index, run_s, source)
        return times
    assert entry.window is not None  # guaranteed by ScheduleEntry._one_timing
    low, high = entry.window[0], min(entry.window[1], run_s)
    if high <= low:
        return []
    return sorted(rng.uniform(low, high) for _ in range(entry.count))


def plan(
    schedule: FaultSchedule, run_s: float, *, registry: FaultRegistry = REGISTRY, source: str = "<schedule>"
) -> list[Occurrence]:
    """The concrete occurrences within the first ``run_s`` seconds, in time order; deterministic per seed.

    An ``every`` entry that would happen more than ``MAX_OCCURRENCES`` times in ``run_s`` is a ``ConfigError``
    naming ``source``, the entry's field and the shortest period that fits."""
    occurrences: list[Occurrence] = []
    for index, entry in enumerate(schedule.faults):
        params = registry.get(entry.fault).parse_params(entry.params)
        # One generator per entry, seeded from (schedule seed, entry index): editing one entry does not
        # reshuffle the others.
        rng = random.Random(f"{schedule.seed}:{index}")
        for at_s in _times(entry, index, run_s, rng, source):
            happens = rng.random() < params.probability if params.probability < 1.0 else True
            occurrences.append(Occurrence(at_s, entry.duration, index, entry.fault, entry.target, params, happens))
    occurrences.sort(key=lambda o: (o.at_s, o.entry))
    return occurrences


def _entry(fault: str, target: str, duration: float | str, params: dict[str, Any], **timing: Any) -> ScheduleEntry:
    return ScheduleEntry(fault=fault, target=target, duration=duration, params=params, **timing)  # type: ignore[arg-type]


def at(when: float | str, fault: str, *, target: str = "", duration: float | str = 0.0, **params: Any) -> ScheduleEntry:
    """``at(60, "process-kill", target="primary", duration=30, restart=True)``."""
    return _entry(fault, target, duration, params, at=when)


def every(
    period: float | str,
    fault: str,
    *,
    target: str = "",
    start: float | str = 0.0,
    duration: float | str = 0.0,
    **params: Any,
) -> ScheduleEntry:
    """``every("5m", "upstream-outage", duration="20s")``: at start, start + period, ..."""
    return _entry(fault, target, duration, params, every=period, start=start)


def randomly(
    window: tuple[float | str, float | str],
    fault: str,
    *,
    target: str = "",
    count: int = 1,
    duration: float | str = 0.0,
    **params: Any,
) -> ScheduleEntry:
    """``randomly((60, 300), "proxy-reset", count=3)``: ``count`` times drawn uniformly in the window (seeded)."""
    return _entry(fault, target, duration, params, window=window, count=count)
