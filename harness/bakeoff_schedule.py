"""When the bake-off may start its next trial: by the calibration and by what the machine has free right now.

A trial is a whole stack (mock, vendor or HA pair, Locust, runner), and two stacks on the same cores measure each
other. The plan, in order:

1. Never more trials at once than the machine has cores: each trial's load generator needs a core of its own to
   start requests on time (``MAX_TRIALS_PER_CORE``).
2. The trials' expected CPU (``Calibration.trial_cores`` at each trial's planned peak) stays within
   ``BUDGET_SHARE`` of the cores, the same 70% that ``scrmbench run`` warns above.
3. One start-up at a time: the next trial waits until every running one has begun its load (start-up, with its
   imports and health checks, is the heaviest moment of a trial).
4. The machine must have the new trial's cores free *now* (measured, so a busy laptop or a CPU hog beside the
   demo is seen): otherwise it waits, and with nothing running it starts anyway, alone.

Uncalibrated (no ``scrmbench calibrate`` result), every trial is assumed to need a whole core. Whatever the plan,
a trial the analysis finds harness-bound is run again alone afterwards (``harness.bakeoff``), so a plan that was
too optimistic costs time, never a wrong verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import psutil

from harness.run.capacity import Calibration, planned_peaks
from scenarios.registry import get as get_scenario

BUDGET_SHARE = 0.70
MAX_TRIALS_PER_CORE = 1
UNCALIBRATED_TRIAL_CORES = 1.0


class Trial(Protocol):
    scenario: str
    params: dict[str, float]
    out: Path


def peak_of(trial: Trial) -> float:
    """The trial's planned peak arrivals per second (all operations), from its scenario's plan."""
    plan = get_scenario(trial.scenario).plan(dict(trial.params), quick=True)
    return sum(planned_peaks(plan).values())


def load_started(trial: Trial) -> bool:
    """True once the trial's run has chosen its load start (``load-start-p0.json`` in its run folder)."""
    return any(trial.out.glob("*/load-start-p0.json")) or (trial.out / "load-start-p0.json").exists()


def machine_busy_pct() -> float:
    """Machine CPU busy since the previous call (all cores' mean)."""
    return float(psutil.cpu_percent(None))


@dataclass
class TrialScheduler:
    cores: int
    calibration: Calibration | None
    busy_pct: Callable[[], float] = machine_busy_pct
    started: Callable[[Trial], bool] = load_started

    def cost(self, trial: Trial) -> float:
        """Cores the trial is expected to use at its peak."""
        if self.calibration is None:
            return UNCALIBRATED_TRIAL_CORES
        return self.calibration.trial_cores(peak_of(trial))

    @property
    def max_parallel(self) -> int:
        return max(1, self.cores * MAX_TRIALS_PER_CORE)

    def admit(self, running: Sequence[Trial], trial: Trial) -> tuple[bool, str]:
        """(start it now?, why not). With nothing running a trial always starts."""
        busy = self.busy_pct()  # read every poll, so the figure covers the last poll interval
        if not running:
            return True, ""
        if len(running) >= self.max_parallel:
            return False, f"{len(running)} trials running on {self.cores} cores"
        if not all(self.started(r) for r in running):
            return False, "another trial is still starting"
        planned = sum(self.cost(r) for r in running) + self.cost(trial)
        if planned > BUDGET_SHARE * self.cores:
            return False, f"planned {planned:.1f} cores > {BUDGET_SHARE:.0%} of {self.cores}"
        free = self.cores * (1 - busy / 100.0)
        if free < self.cost(trial):
            return False, f"only {free:.1f} cores free now"
        return True, ""

    def describe(self, trials: Sequence[Trial]) -> str:
        costs = [self.cost(t) for t in trials]
        fit = max(1, min(self.max_parallel, math.floor(BUDGET_SHARE * self.cores / max(min(costs, default=1), 1e-9))))
        basis = "uncalibrated: a core per trial" if self.calibration is None else "by this machine's calibration"
        return f"up to {fit} trials at once on {self.cores} cores ({basis}), one start-up at a time"
