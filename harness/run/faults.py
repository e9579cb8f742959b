"""The scenario's fault steps → the fault runner (harness/faults), in the background for the run's length.

``failover`` in a scenario is a placeholder resolved here from the vendor profile's ``failover.method``:
``process`` → ``process-kill`` and ``container`` → ``container-kill`` (both restarted when cleared), ``proxy`` →
``proxy-down`` (the proxy ``RunServices`` put in front of the vendor refuses connections until cleared),
``upstream`` → ``upstream-outage`` on the mock (WhatsApp down, the vendor up). A fault kind that is not
registered in this installation is reported on the timeline as an ``error`` event instead of silently skipped.

The schedule counts from the load's own start (``load-start-p0.json``, written by the Locust master or local
runner when it chooses the start its dispatchers use), not from the moment this context is entered: Locust may
take seconds (with workers, up to a minute) to begin. A fault action that fails is an ``error`` on the timeline
and a line in the notes this context yields (the runner puts them in the manifest); the run goes on, so its
results are still exported and scored.

``scrmbench run --faults FILE.yaml`` adds a YAML schedule (``harness.faults.schedule``: at / every / window)
to the scenario's own steps: :func:`load_run_schedule` validates it before anything starts (a bad file is a
``ConfigError``, exit 2), seeds its random windows from the run's ``--seed`` unless the file sets ``seed``, and
keeps the file's text for the manifest. Both are planned separately (editing one does not reshuffle the other)
and played by one runner against the run's targets. A schedule with ``proxy-*`` faults asks the run to put
the in-process chaos proxy in front of the vendor (:attr:`RunSchedule.needs_proxy`), as ``failover.method:
proxy`` does, so its toxics act on the load.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ground.errors import ConfigError, FaultError
from harness.faults import REGISTRY, BackgroundFaults, FaultRunner, FaultSchedule, at, load_schedule
from harness.faults.base import FaultTargets
from harness.faults.schedule import Occurrence
from harness.faults.schedule import plan as plan_schedule
from harness.faults.timeline import FaultTimeline
from harness.loadgen.start import read_load_start
from harness.stack.services import RunServices
from plan.load import FaultStep, LoadPlan

FAILOVER_FAULTS = {"process": ("process-kill", {"restart": True}), "container": ("container-kill", {"restart": True}),
                   "proxy": ("proxy-down", {}), "upstream": ("upstream-outage", {})}  # fmt: skip
# The scenario names its target "primary"; an upstream failover hits the mock the run started instead.
FAILOVER_TARGETS = {"upstream": "mock"}

log = logging.getLogger(__name__)


PROXY_FAULT_PREFIX = "proxy-"  # proxy-down and every toxic fault (harness/faults/proxy_faults.py)


@dataclass(frozen=True)
class RunSchedule:
    """A ``--faults`` file for one run: validated, seeded, and its text for the manifest."""

    path: Path
    text: str
    schedule: FaultSchedule

    @property
    def needs_proxy(self) -> bool:
        """True when an entry is a chaos proxy fault: the run must put the proxy in front of the vendor."""
        return any(entry.fault.startswith(PROXY_FAULT_PREFIX) for entry in self.schedule.faults)

    def occurrences(self, run_s: float) -> list[Occurrence]:
        """The planned occurrences in a run of ``run_s``; an entry happening too often is a ``ConfigError``
        naming the file (the runner asks before the results folder exists)."""
        return plan_schedule(self.schedule, run_s, source=str(self.path))

    def manifest_entry(self, run_s: float) -> dict[str, Any]:
        """What the manifest records: the file, its exact content, the seed used and the planned occurrences."""
        return {
            "file": str(self.path),
            "content": self.text,
            "seed": self.schedule.seed,
            "planned": [
                {"at_s": round(o.at_s, 3), "duration_s": o.duration_s, "fault": o.fault, "target": o.target,
                 "happens": o.happens}
                for o in self.occurrences(run_s)
            ],
        }  # fmt: skip


def load_run_schedule(path: Path | str, *, seed: int) -> RunSchedule:
    """Read and validate a ``--faults`` file; its random draws follow ``seed`` unless the file sets its own."""
    schedule = load_schedule(path)  # file, line, field, value and fix on any error; unknown faults listed
    if "seed" not in schedule.model_fields_set:
        schedule = schedule.model_copy(update={"seed": seed})
    return RunSchedule(Path(path), Path(path).read_text(encoding="utf-8"), schedule)


def check_schedule_targets(schedule: RunSchedule, targets: FaultTargets) -> None:
    """Build every fault of the file against the targets the run will have (``run_services.planned_targets``):
    a target the run will not have, or a bad parameter, is a ``ConfigError`` naming the file before anything
    starts, not after the mock and the vendor are up."""
    for index, entry in enumerate(schedule.schedule.faults):
        try:
            REGISTRY.get(entry.fault).create(entry.params, targets, entry.target)
        except ConfigError as exc:
            field = f"faults.{index}.{exc.field}" if exc.field else f"faults.{index}"
            raise ConfigError(
                exc.message, source=str(schedule.path), field=field, value=exc.value, fix=exc.fix
            ) from None


def _method(services: RunServices) -> str:
    return services.profile.failover.method if services.profile.failover else "process"


def resolve(step: FaultStep, services: RunServices) -> tuple[str, dict[str, Any]]:
    if step.fault != "failover":
        return step.fault, dict(step.params)
    name, params = FAILOVER_FAULTS[_method(services)]
    return name, {**params, **dict(step.params)}


def resolve_target(step: FaultStep, services: RunServices) -> str:
    if step.fault != "failover":
        return step.target
    return FAILOVER_TARGETS.get(_method(services), step.target)


def load_origin(run_dir: Path | None) -> Callable[[], float | None] | None:
    """The load's start as the fault schedule's origin: read from the run folder once the load has chosen it."""
    if run_dir is None:
        return None
    return lambda: read_load_start(run_dir, 0)


@contextmanager
def start_faults(
    plan: LoadPlan,
    services: RunServices,
    timeline: FaultTimeline,
    *,
    run_dir: Path | None = None,
    extra: RunSchedule | None = None,
) -> Iterator[list[str]]:
    """Play the plan's faults while the body runs, counted from the load's start; everything injected is
    cleared on the way out. Yields the list that receives a note per failed fault action (filled on exit).

    ``run_dir`` (default: the timeline's folder) is where the load writes its start; without one the schedule
    counts from entering this context. ``extra`` (a ``--faults`` file) is played alongside the scenario's steps.
    """
    if run_dir is None and timeline.path is not None:
        run_dir = timeline.path.parent
    notes: list[str] = []
    entries = []
    for step in plan.faults:
        name, params = resolve(step, services)
        if name in REGISTRY:
            target = resolve_target(step, services)
            entries.append(at(step.at_s, name, target=target, duration=step.duration_s, **params))
        else:
            timeline.record(
                "error",
                name,
                target=step.target,
                ok=False,
                detail=f"fault {name!r} is not available in this installation; the step was skipped",
            )
    occurrences = plan_schedule(FaultSchedule(faults=entries), plan.duration_s) if entries else []
    if extra is not None:
        occurrences += extra.occurrences(plan.duration_s)
        timeline.record("note", "schedule-file", target=str(extra.path), detail=f"seed {extra.schedule.seed}")
    occurrences.sort(key=lambda o: o.at_s)  # stable: the scenario's steps first at equal times
    background = None
    if occurrences:
        try:
            runner = FaultRunner(occurrences, services.fault_targets(), timeline)
        except ConfigError as exc:
            timeline.record("error", "schedule", ok=False, detail=str(exc))
            raise
        background = BackgroundFaults(
            runner, until_s=plan.duration_s, origin=load_origin(run_dir), keep_going=True
        ).start()
    started = time.monotonic()
    try:
        yield notes
    finally:
        if background is not None:
            try:
                background.stop()
            except FaultError as exc:  # the clean-up itself hung: recorded, and the run's results are kept
                log.error("%s", exc)
                timeline.record("error", "faults", ok=False, detail=str(exc))
                background.runner.failures.append(str(exc))
            notes += [f"fault action failed: {failure}" for failure in background.runner.failures]
        timeline.record("note", "faults-done", detail=f"after {time.monotonic() - started:.1f} s")
