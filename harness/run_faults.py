"""The scenario's fault steps → the fault runner (harness/faults), in the background for the run's length.

``failover`` in a scenario is a placeholder resolved here from the vendor profile's ``failover.method``:
``process`` → ``process-kill`` and ``container`` → ``container-kill`` (both restarted when cleared), ``proxy`` →
``proxy-down`` (the proxy ``RunServices`` put in front of the vendor refuses connections until cleared),
``upstream`` → ``upstream-outage`` on the mock (WhatsApp down, the vendor up). A fault kind that is not
registered in this installation is reported on the timeline as an ``error`` event instead of silently skipped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from harness.errors import ConfigError
from harness.faults import REGISTRY, BackgroundFaults, FaultRunner, FaultSchedule, at
from harness.faults.timeline import FaultTimeline
from harness.run_services import RunServices
from scenarios.base import FaultStep, LoadPlan

FAILOVER_FAULTS = {"process": ("process-kill", {"restart": True}), "container": ("container-kill", {"restart": True}),
                   "proxy": ("proxy-down", {}), "upstream": ("upstream-outage", {})}  # fmt: skip
# The scenario names its target "primary"; an upstream failover hits the mock the run started instead.
FAILOVER_TARGETS = {"upstream": "mock"}


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


@contextmanager
def start_faults(plan: LoadPlan, services: RunServices, timeline: FaultTimeline) -> Iterator[None]:
    """Play the plan's faults while the body runs; everything injected is cleared on the way out."""
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
        background = BackgroundFaults(runner, until_s=plan.duration_s).start()
    started = time.monotonic()
    try:
        yield
    finally:
        if background is not None:
            background.stop()
        timeline.record("note", "faults-done", detail=f"after {time.monotonic() - started:.1f} s")
