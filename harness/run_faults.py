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
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, FaultError
from harness.faults import REGISTRY, BackgroundFaults, FaultRunner, FaultSchedule, at
from harness.faults.timeline import FaultTimeline
from harness.loadgen.start import read_load_start
from harness.run_services import RunServices
from scenarios.base import FaultStep, LoadPlan

FAILOVER_FAULTS = {"process": ("process-kill", {"restart": True}), "container": ("container-kill", {"restart": True}),
                   "proxy": ("proxy-down", {}), "upstream": ("upstream-outage", {})}  # fmt: skip
# The scenario names its target "primary"; an upstream failover hits the mock the run started instead.
FAILOVER_TARGETS = {"upstream": "mock"}

log = logging.getLogger(__name__)


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
    plan: LoadPlan, services: RunServices, timeline: FaultTimeline, *, run_dir: Path | None = None
) -> Iterator[list[str]]:
    """Play the plan's faults while the body runs, counted from the load's start; everything injected is
    cleared on the way out. Yields the list that receives a note per failed fault action (filled on exit).

    ``run_dir`` (default: the timeline's folder) is where the load writes its start; without one the schedule
    counts from entering this context.
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
    background = None
    if entries:
        try:
            runner = FaultRunner.from_schedule(
                FaultSchedule(faults=entries), plan.duration_s, services.fault_targets(), timeline
            )
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
