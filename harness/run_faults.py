"""The scenario's fault steps → the fault runner (harness/faults), in the background for the run's length.

``failover`` in a scenario is a placeholder resolved here from the vendor profile's ``failover.method``:
``process`` → ``process-kill`` (restarted when cleared), ``container`` → ``container-kill``, ``proxy`` →
``proxy-down``. A fault kind that is not registered in this installation is reported on the timeline and in
the manifest instead of silently skipped; the mock-side throttle falls back to the mock's documented
``PATCH /_mock/limits`` control call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from harness.errors import ConfigError
from harness.faults import REGISTRY, BackgroundFaults, FaultRunner, FaultSchedule, at
from harness.faults.timeline import FaultTimeline
from harness.run_services import MOCK_ADMIN_TOKEN, RunServices
from scenarios.base import FaultStep, LoadPlan

FAILOVER_FAULTS = {"process": ("process-kill", {"restart": True}), "container": ("container-kill", {}),
                   "proxy": ("proxy-down", {})}  # fmt: skip


def resolve(step: FaultStep, services: RunServices) -> tuple[str, dict[str, Any]]:
    if step.fault != "failover":
        return step.fault, dict(step.params)
    method = services.profile.failover.method if services.profile.failover else "process"
    name, params = FAILOVER_FAULTS[method]
    return name, {**params, **dict(step.params)}


class _LimitsWindow:
    """Fallback throttle: lower the mock's limits for a window, then restore them (both on the timeline)."""

    def __init__(self, step: FaultStep, services: RunServices, timeline: FaultTimeline) -> None:
        self.step, self.services, self.timeline = step, services, timeline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scrmbench-throttle", daemon=True)
        self._before: dict[str, Any] | None = None

    def _call(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {MOCK_ADMIN_TOKEN}"}
        answer = httpx.request(method, f"{self.services.mock_url}/_mock/limits", json=body, headers=headers, timeout=10)
        answer.raise_for_status()
        data = answer.json()
        return data if isinstance(data, dict) else {}

    def _run(self) -> None:
        if self._stop.wait(self.step.at_s):
            return
        try:
            self._before = self._call("GET")
            self._call("PATCH", dict(self.step.params))
            self.timeline.record("inject", "upstream-throttle", target="mock", params=dict(self.step.params))
        except httpx.HTTPError as exc:
            self.timeline.record("error", "upstream-throttle", target="mock", ok=False, detail=str(exc))
            return
        self._stop.wait(self.step.duration_s)
        self.clear()

    def clear(self) -> None:
        if self._before is None:
            return
        restore = {k: v for k, v in self._before.items() if k in self.step.params}
        before, self._before = self._before, None
        try:
            self._call("PATCH", restore or before)
            self.timeline.record("clear", "upstream-throttle", target="mock", params=restore)
        except httpx.HTTPError as exc:
            self.timeline.record("error", "upstream-throttle", target="mock", ok=False, detail=str(exc))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
        self.clear()


@contextmanager
def start_faults(plan: LoadPlan, services: RunServices, timeline: FaultTimeline) -> Iterator[None]:
    """Play the plan's faults while the body runs; everything injected is cleared on the way out."""
    entries = []
    fallbacks: list[_LimitsWindow] = []
    for step in plan.faults:
        name, params = resolve(step, services)
        if name in REGISTRY:
            entries.append(at(step.at_s, name, target=step.target, duration=step.duration_s, **params))
        elif name == "upstream-throttle" and services.mock_url:
            fallbacks.append(_LimitsWindow(step, services, timeline))
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
    for fallback in fallbacks:
        fallback.start()
    started = time.monotonic()
    try:
        yield
    finally:
        for fallback in fallbacks:
            fallback.stop()
        if background is not None:
            background.stop()
        timeline.record("note", "faults-done", detail=f"after {time.monotonic() - started:.1f} s")
