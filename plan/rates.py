"""Load levels as functions of run time: the shapes every scenario is built from.

A ``RateProfile`` answers "how much load at second t of the run". In the open model the level is an arrival
rate (requests per second, summed over all workers); in the closed model the same profile gives the number of
users. Keeping one shape type for both lets a scenario switch model without rewriting its shape.

Shapes here (load-testing-anchors.md §2.1, market-figures.md "Traffic shape"):
constant, ramping stages (k6-style linear ramps, zero-length stages are jumps), stepped ramp (the capacity
knee), ramp → hold → spike → recover, and the business-day week (72% of traffic Mon–Fri 09–18, busiest hour
Monday 10:00) compressed into a run of chosen length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol


class RateProfile(Protocol):
    @property
    def duration_s(self) -> float:
        """Length of the shape; the run ends there."""

    def rate_at(self, t: float) -> float:
        """Load level at ``t`` seconds after the start (0 outside ``[0, duration_s)``)."""


@dataclass(frozen=True)
class ConstantRate:
    rate: float
    duration_s: float

    def rate_at(self, t: float) -> float:
        return self.rate if 0 <= t < self.duration_s else 0.0


@dataclass(frozen=True)
class Stage:
    """Move linearly from the previous level to ``target`` over ``duration_s`` (0 means jump)."""

    duration_s: float
    target: float


@dataclass(frozen=True)
class RampingRate:
    start: float
    stages: tuple[Stage, ...]

    @property
    def duration_s(self) -> float:
        return sum(stage.duration_s for stage in self.stages)

    def rate_at(self, t: float) -> float:
        if t < 0:
            return 0.0
        level = self.start
        elapsed = 0.0
        for stage in self.stages:
            if stage.duration_s <= 0:
                level = stage.target
                continue
            if t < elapsed + stage.duration_s:
                return level + (stage.target - level) * (t - elapsed) / stage.duration_s
            elapsed += stage.duration_s
            level = stage.target
        return 0.0


@dataclass(frozen=True)
class SteppedRate:
    """``start``, then ``start + step``, ... each held ``step_duration_s``: the capacity staircase."""

    start: float
    step: float
    step_duration_s: float
    steps: int

    @property
    def duration_s(self) -> float:
        return self.step_duration_s * self.steps

    def step_index(self, t: float) -> int:
        return min(int(t // self.step_duration_s), self.steps - 1)

    def level_of_step(self, index: int) -> float:
        return self.start + self.step * index

    def rate_at(self, t: float) -> float:
        if not 0 <= t < self.duration_s:
            return 0.0
        return self.level_of_step(self.step_index(t))


def spike_shape(
    *, base: float, spike: float, ramp_s: float, hold_s: float, spike_s: float, recover_s: float
) -> RampingRate:
    """Ramp up to ``base``, hold, jump to ``spike`` and hold it, drop back to ``base`` and watch the recovery.

    Spikes come from pacing, not from spawning users (Locust warns above 100 spawns/s), so this is a rate shape.
    """
    return RampingRate(
        start=0.0,
        stages=(
            Stage(ramp_s, base),
            Stage(hold_s, base),
            Stage(0.0, spike),
            Stage(spike_s, spike),
            Stage(0.0, base),
            Stage(recover_s, base),
        ),
    )


HOURS_PER_WEEK = 168
BUSINESS_SHARE = 0.72  # market-figures.md: 72% of traffic Mon–Fri 09:00–18:00


def _business_day_weights(monday_boost: float) -> tuple[float, ...]:
    """168 hourly weights (Monday 00:00 first) summing to 1, 72% inside business hours, peak Monday 10:00."""
    business: list[float] = [0.0] * HOURS_PER_WEEK
    off: list[float] = [0.0] * HOURS_PER_WEEK
    for hour in range(HOURS_PER_WEEK):
        day, clock_hour = divmod(hour, 24)
        if day < 5 and 9 <= clock_hour < 18:
            # A bell peaking at 10:00 inside the working day; Mondays busier than other days.
            bell = 1.0 + math.exp(-((clock_hour - 10) ** 2) / 4.0)
            business[hour] = bell * (monday_boost if day == 0 else 1.0)
        else:
            # Evenings taper, nights are quiet, weekends in between.
            off[hour] = 0.5 if 7 <= clock_hour < 23 else 0.15
    business_total, off_total = sum(business), sum(off)
    return tuple(
        BUSINESS_SHARE * b / business_total + (1 - BUSINESS_SHARE) * o / off_total
        for b, o in zip(business, off, strict=False)
    )


@dataclass(frozen=True)
class BusinessDayRate:
    """A week of traffic compressed into ``duration_s``; ``peak_rate`` is reached in the Monday 10:00 hour."""

    peak_rate: float
    duration_s: float
    monday_boost: float = 1.3
    weights: tuple[float, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _business_day_weights(self.monday_boost))

    def hour_of(self, t: float) -> int:
        """The hour of the week (0 = Monday 00:00) that second ``t`` of the run stands for."""
        return min(int(t / self.duration_s * HOURS_PER_WEEK), HOURS_PER_WEEK - 1)

    def rate_at(self, t: float) -> float:
        if not 0 <= t < self.duration_s:
            return 0.0
        return self.peak_rate * self.weights[self.hour_of(t)] / max(self.weights)

    @property
    def peak_hour(self) -> int:
        return max(range(HOURS_PER_WEEK), key=lambda h: self.weights[h])

    def expected_count(self) -> float:
        """Arrivals the whole run should offer (summed over workers)."""
        hour_s = self.duration_s / HOURS_PER_WEEK
        return sum(self.peak_rate * w / max(self.weights) * hour_s for w in self.weights)


def business_hours_share(weights: tuple[float, ...]) -> float:
    return sum(w for hour, w in enumerate(weights) if hour // 24 < 5 and 9 <= hour % 24 < 18)
