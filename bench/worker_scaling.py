"""Scaling out (issue 20): sends/s sustained unsaturated with 1 and 2 workers and mock shards, per core given.

Run: ``.venv/bin/python bench/worker_scaling.py [--quick]`` (hold the machine lock; the full form plays the trial
stack and five staircases, about 8 minutes on 2 cores; ``--quick`` two, about 2 minutes).

Each configuration is the same open-model plan: the ``sends`` calibration probe (template sends through the
cloud-api adapter to the mock alone, the recorder and the health sampler on, the mock's WhatsApp limits off) as a
real ``scrmbench run`` of a staircase (``harness.run.calibrate.run_staircase``), with

- ``workers`` local Locust worker processes under a master (``scrmbench run --workers N``),
- the mock as ``shards`` processes sharded by phone number id (``scrmbench run --mock-shards N``): the load spreads
  its sends over the mock's numbers and sends each number's to the shard that owns it, and
- ``cores`` cores: this process sets its CPU affinity before it starts the run, and everything the run starts (the
  master, its workers, the mock's shards) inherits it. The health sampler judges "the machine" over those cores
  (``ground.cores``). The staircase's steps scale with the cores (from 500/s in steps of 250/s per core; quick:
  500/s per core), so each configuration is measured at the same resolution per core.

Why fix the cores: scaling out is the question "given twice the cores, does the harness send twice as much?". On
a 2-core machine, 1 worker + 1 shard left free already spread over both cores (it keeps about 1.4 of them busy at
its ceiling), so a second worker and shard add processes, not cores, and the ratio measures the machine (0.875
here). With 1 + 1 held to one core and 2 + 2 given two, the ratio measures the harness's parallel efficiency, as
on a cluster where each worker and each shard gets its own core. The full form also plays 1 + 1, 2 + 1 and 1 + 2
on both cores and prints the same-cores ratio, the cost of splitting a small machine too far.

Two figures per configuration, judged step by step by ``harness.run.calibrate.judge_probe``:

- **unsaturated**: the highest step before the first one the analysis's harness-bound rules flag
  (``analysis.harness_health``: generator loop lag, start lateness, no harness or mock process at ≥ 90% of a core,
  the usable cores below 95% busy or the run queue within their count), with no dropped slot and ≥ 95% answered;
- **on schedule**: the same with the per-process and machine CPU rules relaxed (as ``bench/harness_ceiling.py``
  judges plain Locust's one process at 100% of a core): what the configuration delivers, saturated or not.

For sizing a trial (docs/scaling.md) it prints, at each configuration's highest clean step, the CPU of the
generator (role harness: the runner, the master and its workers) and of the mock, in sends/s per core, and each
configuration's unsaturated sends/s per core given. The full form (or ``--trial-stack`` alone) also plays the
``vendor`` calibration probe (sends through the steady reference vendor, relayed to the mock, whose status webhooks
go back to the vendor) to give the mock's cores per message/s when every message also brings its webhooks, as in a
real trial.

The ratio (2 workers + 2 shards on 2 cores) ÷ (1 worker + 1 shard on 1 core), unsaturated, is printed last (goal
≥ 1.6 on 2 cores). Measured 2026-12-07 on the 2-core development machine: 3,500 ÷ 2,000 = 1.75 (quick: 2.00).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.harness_health import HealthThresholds
from ground.cores import usable_core_ids
from harness.run.calibrate import PROBES, Probe, ProbeResult, judge_probe, run_staircase

RELAXED = HealthThresholds(process_cpu_pct=float("inf"), machine_cpu_busy_pct=101.0)


@dataclass(frozen=True)
class Config:
    workers: int
    shards: int
    cores: int  # the run (this process, its master, workers and mock shards) is confined to this many cores

    @property
    def name(self) -> str:
        return (
            f"{self.workers} worker{'s' if self.workers > 1 else ''} + {self.shards} mock shard"
            + ("s" if self.shards > 1 else "")
            + f" on {self.cores} core{'s' if self.cores > 1 else ''}"
        )


ONE, TWO = Config(1, 1, cores=1), Config(2, 2, cores=2)  # the ratio: one core's worth of harness, then two
SAME_CORES = Config(1, 1, cores=2)  # 1 + 1 given both cores: what the old ratio compared 2 + 2 with
FULL = (ONE, SAME_CORES, Config(2, 1, cores=2), Config(1, 2, cores=2), TWO)
QUICK = (ONE, TWO)


def staircase(quick: bool, cores: int) -> Probe:
    """The same staircase per core for every configuration: steps scale with the cores, so the resolution does."""
    base = next(p for p in PROBES if p.name == "sends")
    if quick:
        step = 500 * cores
        return Probe("sends", base.profile, base.operation, start_rate=step, step_rate=step, steps=7, step_s=4)
    return Probe("sends", base.profile, base.operation, start_rate=500 * cores, step_rate=250 * cores, steps=14,
                 step_s=4)  # fmt: skip


@contextmanager
def confined(cores: int) -> Iterator[None]:
    """This process, and every process it starts meanwhile (master, workers, mock shards), on ``cores`` cores."""
    before = set(usable_core_ids())
    if cores > len(before):
        raise SystemExit(f"worker_scaling: needs {cores} usable cores, this process may use {len(before)}")
    os.sched_setaffinity(0, set(sorted(before)[:cores]))
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def measure(config: Config, probe: Probe, root: Path) -> tuple[ProbeResult, ProbeResult]:
    with confined(config.cores):
        run_dir = run_staircase(probe, root, workers=config.workers, mock_shards=config.shards)
    return judge_probe(probe, run_dir), judge_probe(probe, run_dir, RELAXED)


def trial_stack(root: Path) -> None:
    """The ``vendor`` probe with one mock process: what a message costs the mock with its webhooks."""
    probe = next(p for p in PROBES if p.name == "vendor")
    found = judge_probe(probe, run_staircase(probe, root))
    at = next((step for step in found.steps if step["level"] == found.capacity_per_s), None)
    if at is None:
        print(f"trial stack: no clean step ({found.limited_by})")
        return
    cores = at["role_cores"]
    mock, vendor = cores.get("mock", 0.0), cores.get("candidate", 0.0)
    hooks = found.webhooks_per_s or 0.0
    print(f"trial stack at {at['level']:g} messages/s ({hooks:.0f} webhooks/s back to the vendor): mock {mock:.2f} "
          f"cores ({1000 * mock / at['level']:.2f} cores per 1,000 messages/s), reference vendor {vendor:.2f} cores, "
          f"generator {cores.get('harness', 0.0):.2f} cores ({found.limited_by})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1+1 and 2+2 only, a shorter staircase")
    parser.add_argument("--trial-stack", action="store_true", help="only the vendor probe's mock cost, no ratio")
    options = parser.parse_args()
    results: dict[Config, tuple[ProbeResult, ProbeResult]] = {}
    with tempfile.TemporaryDirectory(prefix="scrmbench-scaling-") as tmp:
        if options.trial_stack or not options.quick:
            trial_stack(Path(tmp))
        if options.trial_stack:
            return
        for config in QUICK if options.quick else FULL:
            probe = staircase(options.quick, config.cores)
            strict, relaxed = results[config] = measure(config, probe, Path(tmp))
            for step, verdict in zip(relaxed.steps, strict.steps, strict=True):
                state = "clean" if verdict["clean"] else verdict["why"]
                print(f"  {config.name}: step {step['level']:6.0f}/s answered {step['ok_per_s']:7.1f}/s, "
                      f"stack {step['stack_cores']:.2f} cores, {state}")  # fmt: skip
            print(f"{config.name}: {strict.capacity_per_s:g} sends/s unsaturated ({strict.limited_by}); "
                  f"{relaxed.capacity_per_s:g} sends/s on schedule ({relaxed.limited_by})", flush=True)  # fmt: skip
    one, two = results[ONE][0], results[TWO][0]
    for config, (strict, relaxed) in results.items():
        judged = strict if strict.capacity_per_s else relaxed  # no clean step at all: the on-schedule ceiling
        at = next((step for step in judged.steps if step["level"] == judged.capacity_per_s), None)
        if at is None:
            continue
        generator, mock = at["role_cores"].get("harness", 0.0), at["role_cores"].get("mock", 0.0)
        print(f"{config.name} at {at['level']:g} sends/s: generator {generator:.2f} cores "
              f"({at['level'] / max(generator, 1e-9):.0f} sends/s per core), mock {mock:.2f} cores "
              f"({at['level'] / max(mock, 1e-9):.0f} sends/s per core)")  # fmt: skip
    for config, (strict, _) in results.items():
        print(f"{config.name}: {strict.capacity_per_s / config.cores:.0f} sends/s per core unsaturated")
    if SAME_CORES in results:
        same = results[SAME_CORES][0]
        print(f"2 workers + 2 shards ÷ 1 worker + 1 shard, both on 2 cores (the cores, not the harness, are the "
              f"limit): {two.capacity_per_s / max(same.capacity_per_s, 1e-9):.3f}")  # fmt: skip
    print(f"2 workers + 2 shards on 2 cores ÷ 1 worker + 1 shard on 1 core, unsaturated (goal >= 1.6 on 2 cores): "
          f"{two.capacity_per_s / max(one.capacity_per_s, 1e-9):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
