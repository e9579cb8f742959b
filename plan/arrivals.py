"""Intended start times: the open model's schedule, divided across workers.

The schedule is fixed before the first request and does not care how fast the system under test answers: that
is what keeps the offered load honest when the vendor stalls (coordinated omission, load-testing-anchors.md
§2.2). Each worker computes its own share from the same profile, so no coordination is needed at run time:

- ``constant``: evenly spaced arrivals of the whole run (the k-th arrival where the cumulative rate reaches k);
  worker i of n takes every n-th one starting at i, so the union over workers is exactly the single-worker
  schedule.
- ``poisson``: each worker draws its own Poisson stream at rate/n from ``(seed, worker)``; the superposition of
  n independent Poisson streams at rate/n is a Poisson stream at the full rate.

Times are offsets in seconds from the run's start; the caller adds the start's wall-clock time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from plan.rates import RateProfile

# Integration step for the cumulative rate: a 10 ms step keeps each start within a few ms of the exact one even
# across a stepped or spiking profile, at a cost of 100 steps per second of run.
STEP_S = 0.01


class Arrival(StrEnum):
    CONSTANT = "constant"
    POISSON = "poisson"


@dataclass(frozen=True)
class WorkerShare:
    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"worker index {self.index} must be in 0..{self.count - 1}")


def _invert_cumulative(profile: RateProfile, targets: Iterator[float]) -> Iterator[float]:
    """For increasing ``targets`` of the cumulative rate Λ(t) = ∫ rate, yield the t where Λ reaches each one."""
    duration = profile.duration_s
    index = 0
    t = 0.0
    cumulative = 0.0
    target = next(targets, None)
    while target is not None and t < duration:
        step = min(STEP_S, duration - t)
        # Trapezoid over the step: exact for linear ramps, within one step at jumps.
        rate = 0.5 * (profile.rate_at(t) + profile.rate_at(min(t + step, duration - 1e-9)))
        gained = rate * step
        while target is not None and cumulative + gained >= target:
            yield t + (target - cumulative) / rate if rate > 0 else t
            target = next(targets, None)
        cumulative += gained
        index += 1
        t = index * STEP_S  # no drift from repeated additions


def _constant_targets(share: WorkerShare) -> Iterator[float]:
    # Half-unit offsets put each start in the middle of its slot, so float error never adds or loses one at the ends.
    k = share.index
    while True:
        yield k + 0.5
        k += share.count


def _poisson_targets(share: WorkerShare, seed: int) -> Iterator[float]:
    # A stream of its own per worker; the string seed keeps (seed, worker) pairs apart without arithmetic tricks.
    rng = random.Random(f"scrmbench-arrivals-{seed}-{share.index}")
    cumulative = 0.0
    while True:
        # Exponential gaps at rate/n, expressed in units of the full-rate cumulative Λ.
        cumulative += rng.expovariate(1.0) * share.count
        yield cumulative


def arrival_offsets(
    profile: RateProfile,
    arrival: Arrival = Arrival.CONSTANT,
    *,
    share: WorkerShare | None = None,
    seed: int = 0,
) -> Iterator[float]:
    """This worker's intended start offsets (seconds from run start), in increasing order, ending with the shape."""
    share = share or WorkerShare()
    targets = _constant_targets(share) if arrival is Arrival.CONSTANT else _poisson_targets(share, seed)
    return _invert_cumulative(profile, targets)
