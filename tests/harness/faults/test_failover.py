"""A failover run against the reference HA pair: the fault runner kills the primary on schedule, a bounded load
loop records every request, and the recovery time computed from ``faults.jsonl`` + those records matches the
pair's configured detection (interval × threshold + timeout) and the front's own switch time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.clock import SystemClock
from harness.faults import BackgroundFaults, FaultRunner, FaultSchedule, FaultTargets, FaultTimeline, at, plan
from harness.faults.timeline import read_timeline

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

RUN_S = 9.0
KILL_AT_S = 2.0
RATE_PER_S = 20  # low enough that the front's passive checks do not do all the detecting


@dataclass
class Record:
    started_at: float
    ended_at: float
    ok: bool


def load_loop(url: str, clock: SystemClock, stop: threading.Event, records: list[Record]) -> None:
    """An open-model loop: one GET every 1/RATE s on the shared wall clock, bounded by RUN_S and by ``stop``."""
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        origin = time.monotonic()
        for slot in range(int(RUN_S * RATE_PER_S)):
            if stop.wait(max(0.0, origin + slot / RATE_PER_S - time.monotonic())):
                return
            started = clock.now()
            try:
                ok = client.get(url).status_code == 200
            except httpx.HTTPError:
                ok = False
            records.append(Record(started, clock.now(), ok))


def recovery_s(records: list[Record], injected_at: float) -> tuple[float, int]:
    """Seconds from the inject to the end of the first success after the last failure; and the failure count."""
    after = [r for r in records if r.started_at >= injected_at]
    failures = [r for r in after if not r.ok]
    assert failures, "the kill was never seen by the client"
    last_failure = max(r.started_at for r in failures)
    first_ok = min((r for r in after if r.ok and r.started_at > last_failure), key=lambda r: r.started_at)
    return first_ok.ended_at - injected_at, len(failures)


def test_failover_recovery_matches_the_pairs_detection_time(reference_vendor: Any, tmp_path: Path) -> None:
    pair = reference_vendor("fast-failover")
    status = httpx.get(f"{pair.base_url}/_front/status", timeout=5).json()
    settings = status["settings"]
    configured_s = settings["interval_s"] * settings["failure_threshold"] + settings["timeout_s"]

    clock = SystemClock()
    timeline = FaultTimeline(tmp_path / "faults.jsonl", clock=clock)
    schedule = FaultSchedule(faults=[at(KILL_AT_S, "process-kill", target="primary", duration=4.0, restart=True)])
    targets = FaultTargets(processes={"primary": pair.primary.service})
    runner = FaultRunner(plan(schedule, RUN_S), targets, timeline, clock=clock)

    records: list[Record] = []
    stop = threading.Event()
    loader = threading.Thread(target=load_loop, args=(f"{pair.base_url}/health", clock, stop, records))
    with BackgroundFaults(runner, until_s=RUN_S) as faults:
        loader.start()
        loader.join(RUN_S + 30)
        stop.set()
        while not faults.done():
            time.sleep(0.05)  # the runner finishes its schedule (until_s) and clears on its own
    timeline.close()

    events = read_timeline(tmp_path / "faults.jsonl")
    assert [(e.action, e.fault) for e in events] == [("inject", "process-kill"), ("clear", "process-kill")]
    injected_at = events[0].at
    measured_s, failures = recovery_s(records, injected_at)

    front_events = httpx.get(f"{pair.base_url}/_front/status", timeout=5).json()["events"]
    switched_at = next(e["at"] for e in front_events if e["event"] == "switched")
    switch_s = switched_at - injected_at
    print(f"recovery {measured_s:.2f} s after {failures} failures; the front switched after {switch_s:.2f} s")

    # Detection cannot take longer than the configured checks (plus the promote call and a busy machine) ...
    assert 0 < measured_s <= configured_s + 1.5
    # ... and what the client saw agrees with the front's own clock (one shared wall clock), within two slots.
    assert abs(measured_s - switch_s) <= 2.0 / RATE_PER_S + 0.3
    assert pair.primary.alive()  # cleared: the primary was started again
