"""Failover runs against the reference HA pair, checked against the fast-failover profile's truth.

The truth (mocks/vendors/profiles.py): the front detects a killed primary by its active checks only, after
``failure_threshold`` consecutive refused checks ``interval_s`` apart, so the switch comes at the earliest
(threshold − 1) × interval after the kill (the first refused check may land just after it). That lower bound holds
on any machine: a busy one only makes checks later. Nothing faster than it is allowed beyond the resolution of
what measures it (one request slot, one recovery bucket): a recovery sooner than (threshold − 1) intervals means
something other than the configured checks detected the kill (passive checks on proxied traffic did, until they
were made opt-in). The upper bound is the designed fault's own: service must be back before the fault's clear
restarts the primary, otherwise it was the restart, not the failover, that restored it. How long after the
(threshold − 1) intervals the switch comes depends on the machine's speed and is not asserted (no wall-clock
bounds in tests; the fast-failover profile's timings are the product's truth, documented there).

1. The fault runner kills the primary on schedule, a bounded load loop records every request, and the recovery
   from ``faults.jsonl`` + those records lies between the truth's lower bound and the clear, and is ordered
   consistently with the front's own events on the one shared wall clock: the first success ends after the
   front detected the kill, the last failure started before the front switched.
2. The real failover scenario (``harness.run.runner.execute``) on ``vendors/reference-ha-pair.yaml``: its own
   records and fault timeline, through ``analysis.recovery``, give time to detect before the earliest possible
   switch, and time to first success and sustained recovery between that switch and the clear.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from analysis import accounting
from analysis.load import load_run
from analysis.recovery import RecoveryParams, recovery
from ground.clock import SystemClock
from harness.faults import BackgroundFaults, FaultRunner, FaultSchedule, FaultTargets, FaultTimeline, at, plan
from harness.faults.timeline import read_timeline
from harness.run.runner import execute
from mocks.vendors.profiles import DEFAULT_TIME_SCALE, PROFILES
from tests.fixtures.runs import quiet_run_request

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

RUN_S = 9.0
KILL_AT_S = 2.0
RATE_PER_S = 20


def earliest_switch_s(settings: dict[str, Any], resolution_s: float) -> float:
    """The soonest a client may see the first success after a kill (module docstring): (threshold − 1) check
    intervals, less the measurement's resolution. A slow machine can only make it later."""
    return (settings["failure_threshold"] - 1) * settings["interval_s"] - resolution_s


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


def client_recovery(records: list[Record], injected_at: float) -> tuple[Record, Record, int]:
    """The last failed request after the inject, the first success after it, and the failure count."""
    after = [r for r in records if r.started_at >= injected_at]
    failures = [r for r in after if not r.ok]
    assert failures, "the kill was never seen by the client"
    last_failure = max(failures, key=lambda r: r.started_at)
    first_ok = min((r for r in after if r.ok and r.started_at > last_failure.started_at), key=lambda r: r.started_at)
    return last_failure, first_ok, len(failures)


def test_failover_recovery_matches_the_pairs_detection_time(reference_vendor: Any, tmp_path: Path) -> None:
    pair = reference_vendor("fast-failover")
    status = httpx.get(f"{pair.base_url}/_front/status", timeout=5).json()
    settings = status["settings"]
    assert settings["passive_checks"] is False  # the truth's premise: only the active checks detect

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
        assert not loader.is_alive(), "the load loop did not end within RUN_S + 30 s"
        # The runner finishes its schedule (until_s) and clears on its own: wait for that, with a deadline.
        deadline = time.monotonic() + RUN_S + 30
        while not faults.done() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert faults.done(), "the fault runner did not finish its schedule within RUN_S + 30 s"
    timeline.close()

    events = read_timeline(tmp_path / "faults.jsonl")
    assert [(e.action, e.fault) for e in events] == [("inject", "process-kill"), ("clear", "process-kill")]
    injected_at, cleared_at = events[0].at, events[1].at
    last_failure, first_ok, failures = client_recovery(records, injected_at)
    measured_s = first_ok.ended_at - injected_at

    front_events = httpx.get(f"{pair.base_url}/_front/status", timeout=5).json()["events"]
    detected_at = next(e["at"] for e in front_events if e["event"] == "detected" and e["backend"] == "primary")
    switched_at = next(e["at"] for e in front_events if e["event"] == "switched")
    switch_s = switched_at - injected_at
    print(f"recovery {measured_s:.2f} s after {failures} failures; the front switched after {switch_s:.2f} s")

    # Detection took the configured checks: not sooner (no passive shortcut), on the front's clock and the
    # client's ...
    low = earliest_switch_s(settings, resolution_s=1.0 / RATE_PER_S)
    assert low <= switch_s, (switch_s, low)
    assert low <= measured_s, (measured_s, low)
    # ... the failover, not the primary's restart at the clear, brought service back ...
    assert switched_at < cleared_at and first_ok.ended_at < cleared_at, (switch_s, measured_s, cleared_at - injected_at)
    # ... and what the client saw is ordered with the front's own events (one shared wall clock): it was served
    # again only after the front had detected the kill, and nothing it started after the switch failed.
    assert detected_at <= first_ok.ended_at, (detected_at - injected_at, measured_s)
    assert last_failure.started_at <= switched_at, (last_failure.started_at - injected_at, switch_s)
    assert pair.primary.alive()  # cleared: the primary was started again


SCENARIO_RATE = 20.0
BUCKET_S = 0.1  # recovery buckets of two request slots: finer than the 0.5 s check interval being measured


def test_failover_scenario_recovery_matches_the_profiles_detection_time(tmp_path: Path) -> None:
    request = quiet_run_request(
        tmp_path,
        "failover",
        vendor="reference-ha-pair.yaml",
        overrides={
            "duration_s": 9,
            "rate": SCENARIO_RATE,
            "kill_at_s": 2,
            "down_s": 3,
            "drain_s": 1,
            "recovery_short_window_s": 1,
            "recovery_confirm_s": 3,
        },
        seed=7,
    )
    run = load_run(execute(request).run_dir)
    assert run.manifest.complete
    kills = [e for e in run.faults if e.action == "inject"]
    assert [(e.fault, e.target, e.ok) for e in kills] == [("process-kill", "process:primary", True)]

    messages = accounting.message_table(run.requests, run.ledger)
    run_end = float(run.requests["ended_at"].max())
    params = RecoveryParams(bucket_s=BUCKET_S, short_window_s=1.0, confirm_window_s=3.0)
    (result,) = recovery(run.faults, run.requests, messages, run_end, params)["faults"]
    print({k: result[k] for k in ("ttd_s", "ttr_first_s", "ttr_sustained_s", "errors_during_fault", "flaps")})

    front = PROFILES.get("fast-failover")(DEFAULT_TIME_SCALE).front
    assert front is not None and not front.passive_checks
    clears = [e for e in run.faults if e.action == "clear"]
    assert [(e.fault, e.ok) for e in clears] == [("process-kill", True)]
    down_s = clears[0].at - kills[0].at  # the designed outage: the primary is restarted at its clear
    low = earliest_switch_s(front.model_dump(), resolution_s=BUCKET_S + 1 / SCENARIO_RATE)
    # The client saw the kill while the front was still on the dead primary (before it could have switched) ...
    assert result["errors_during_fault"] > 0
    assert result["ttd_s"] < low, (result["ttd_s"], low)
    # ... and was served again, for good, after the configured checks (not sooner) and by the failover, before
    # the primary's restart at the clear (sustained may wait one more slot for the last in-flight failure).
    assert result["recovered"], result
    assert low <= result["ttr_first_s"] < down_s, (result["ttr_first_s"], (low, down_s))
    assert low <= result["ttr_sustained_s"] < down_s, (result["ttr_sustained_s"], (low, down_s))
    assert result["ttr_sustained_s"] >= result["ttr_first_s"]
    assert result["lost_messages"] == 0  # fast-failover's durable queue: nothing acknowledged is lost
