"""Profile truths checked on an injected clock and seeded generators: the exact figures, no processes, no sleeps.

- `degrading`/`lossy`: the fixed service schedule makes capacity exactly workers / service, Graph time included.
- `lossy`: the queue-pressure gate (nothing dropped below the threshold, seeded drops at or above it), and a
  Graph error that is not retried counted as failed and listed by id.
- `flaky-media`: the sliding window ages old uploads out.
- `calibrated`: every latency distribution draws what its settings say.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ground.clock import FakeClock
from mocks.vendors.app import sample_ms
from mocks.vendors.config import build_settings
from mocks.vendors.outbound import ServiceSchedule
from mocks.vendors.settings import LatencySettings
from mocks.vendors.state import VendorState

# ---------------------------------------------------------------------------------------------------------------
# The fixed service schedule


def test_a_busy_worker_keeps_one_slot_per_period_whatever_the_round_trip_below_it():
    schedule = ServiceSchedule(0.05)
    assert schedule.next_slot_end(10.0) == pytest.approx(10.05)  # idle worker: a fresh slot
    # Busy: each next job is taken after the previous send's round trip (30 ms), yet its slot starts where
    # the previous one ended, so the sends stay exactly 50 ms apart.
    ends = [10.05]
    for _ in range(5):
        taken = ends[-1] + 0.03
        schedule.sent(taken)
        ends.append(schedule.next_slot_end(taken))
    assert [b - a for a, b in itertools.pairwise(ends)] == pytest.approx([0.05] * 5)
    assert schedule.overruns == 0


def test_an_overrunning_round_trip_pushes_the_schedule_back_and_never_catches_up():
    schedule = ServiceSchedule(0.05)
    end = schedule.next_slot_end(0.0)
    schedule.sent(end + 0.08)  # a 80 ms round trip: past the next slot's end
    assert schedule.overruns == 1
    # The next slot starts now (no burst to make up the lost time): capacity can only be lower.
    assert schedule.next_slot_end(end + 0.08) == pytest.approx(end + 0.08 + 0.05)


def test_an_idle_worker_waits_at_most_one_period():
    schedule = ServiceSchedule(0.05)
    end = schedule.next_slot_end(0.0)
    # Taken 20 ms after the previous send: sent at the end of the following slot, 30 ms later.
    assert schedule.next_slot_end(end + 0.02) == pytest.approx(end + 0.05)
    # Idle for longer than a slot: a full fresh slot.
    assert schedule.next_slot_end(5.0) == pytest.approx(5.05)


def graph_answering_after(clock: FakeClock, rtt_s: float, sent: list[float]) -> httpx.MockTransport:
    """A Graph API whose every call takes ``rtt_s`` of fake time; ``sent`` gets the fake time each call starts."""

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(clock.monotonic())
        clock.advance(rtt_s)
        return httpx.Response(200, json={"messages": [{"id": f"wamid.{len(sent)}"}]})

    return httpx.MockTransport(handler)


def text_payload(index: int) -> dict[str, Any]:
    return {"type": "text", "text": {"body": f"m{index}"}}


async def run_until(predicate: Any, what: str, rounds: int = 200_000) -> None:
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never reached: {what}")


@pytest.mark.parametrize(("rtt_s", "spacing_s", "overruns"), [(0.0, 0.05, 0), (0.03, 0.05, 0), (0.07, 0.12, 5)])
def test_one_worker_sends_one_job_per_slot_graph_time_included(tmp_path, rtt_s, spacing_s, overruns):
    # The lossy profile's worker (50 ms slots): 20 msg/s exactly while a Graph call fits in a slot; a slower
    # Graph makes the spacing a slot plus the round trip (and says so): never more than one job per slot.
    async def scenario() -> tuple[list[float], dict[str, Any]]:
        clock = FakeClock()
        starts: list[float] = []
        settings, _ = build_settings(
            "lossy", {"db_path": str(tmp_path / "v.sqlite3"), "whatsapp_url": "http://graph.test"}
        )
        state = VendorState(settings, clock, graph_answering_after(clock, rtt_s, starts))
        for index in range(5):
            state.queue_message(f"49151{index:08d}", "text", f"m{index}", text_payload(index))
        state.start()
        try:
            await run_until(lambda: state.outbound.counts["sent"] == 5, "five sends")
            return starts, state.outbound.stats()
        finally:
            await state.close()

    starts, stats = asyncio.run(scenario())
    assert [b - a for a, b in itertools.pairwise(starts)] == pytest.approx([spacing_s] * 4, abs=1e-6)
    assert stats["slot_overruns"] == overruns


# ---------------------------------------------------------------------------------------------------------------
# lossy: the queue-pressure gate, and failures that are not retried


def test_lossy_drops_nothing_below_its_threshold_and_seeded_draws_at_or_above_it(tmp_path):
    # The shipped profile (threshold 20, p = 0.1), workers not started: the queue depth is exactly what was kept.
    async def scenario() -> None:
        settings, _ = build_settings("lossy", {"db_path": str(tmp_path / "v.sqlite3"), "seed": 42})
        assert settings.loss_queue_threshold == 20 and settings.loss_fraction == 0.1
        state = VendorState(settings, FakeClock())
        outbound = state.outbound
        try:
            below = [state.queue_message(f"49151{i:08d}", "text", "x", text_payload(i)) for i in range(20)]
            assert outbound.counts["dropped"] == 0 and outbound.queue.depth() == 20  # depth 0..19: never
            # From here the queue holds 20 or more: each accepted message is a seeded draw.
            above = [state.queue_message(f"49152{i:08d}", "text", "x", text_payload(i)) for i in range(300)]
            draws = random.Random(42)  # no draw was spent below the threshold
            expected = [message for message in above if draws.random() < 0.1]
            assert list(outbound.dropped) == expected and len(expected) > 10
            assert outbound.queue.depth() == 20 + 300 - len(expected)
            assert not set(below) & set(outbound.dropped)
            # Drain below the threshold (as the worker would): the gate closes again.
            while outbound.queue.depth() > 5:
                await outbound.queue.get()
            later = [state.queue_message(f"49153{i:08d}", "text", "x", text_payload(i)) for i in range(14)]
            assert outbound.counts["dropped"] == len(expected) and not set(later) & set(outbound.dropped)
        finally:
            await state.close()

    asyncio.run(scenario())


def test_lossy_counts_a_graph_error_it_does_not_retry_as_failed_and_lists_it(in_process_vendor):
    from tests.mocks.vendors.conftest import wait_until
    from tests.mocks.vendors.fake_graph import FakeGraph

    graph = FakeGraph(script=[(503, 131000)])  # retryable for the others; lossy has retry off
    vendor = in_process_vendor("lossy", graph=graph, service_ms=0.0)
    ids = [vendor.post("/api/messages", {"to": f"4915100000{i:03d}", "text": f"m{i}"}).json()["id"] for i in range(3)]
    wait_until(lambda: vendor.state.outbound.counts["sent"] == 2, what="the other two sent")
    stats = vendor.get("/_vendor/stats").json()["outbound"]
    assert stats["failed"] == 1 and stats["failed_ids"] == [ids[0]] and stats["dropped_ids"] == []
    assert vendor.message(ids[0])["status"] == "failed" and graph.calls == 3
    assert graph.texts() == ["m1", "m2"]  # lost = dropped (0) + failed (1)


# ---------------------------------------------------------------------------------------------------------------
# flaky-media: the sliding window


@pytest.fixture
def media_state(tmp_path: Path) -> Iterator[tuple[VendorState, FakeClock]]:
    clock = FakeClock()
    settings, _ = build_settings(
        "flaky-media", {"db_path": str(tmp_path / "v.sqlite3"), "media_fail_after": 3, "media_window_s": 10.0}
    )
    state = VendorState(settings, clock)
    yield state, clock
    asyncio.run(state.close())


def test_flaky_media_uploads_age_out_of_the_window(media_state):
    state, clock = media_state
    allowed = []
    for step in [0.0, 1.0, 1.0, 1.0, 5.0]:  # uploads at t = 0, 1, 2, then refused at 3 and 8
        clock.advance(step)
        allowed.append(state.media_allowed())
    assert allowed == [True, True, True, False, False]
    clock.advance(1.999)  # t = 9.999: the upload at 0 is still inside the window
    assert not state.media_allowed()
    clock.advance(0.001)  # t = 10: it has aged out, one slot frees (refused uploads never counted)
    assert state.media_allowed()
    assert not state.media_allowed()  # the window holds 1, 2, 10 again
    clock.advance(1.0)  # t = 11: the upload at 1 ages out
    assert state.media_allowed() and not state.media_allowed()
    clock.advance(20.0)  # the whole window aged out: three more
    assert [state.media_allowed() for _ in range(4)] == [True, True, True, False]


def test_the_shipped_flaky_media_profile_refuses_the_701st_upload_of_the_hour(tmp_path):
    clock = FakeClock()
    settings, _ = build_settings("flaky-media", {"db_path": str(tmp_path / "shipped.sqlite3")})
    state = VendorState(settings, clock)
    try:
        results = []
        for _ in range(701):
            results.append(state.media_allowed())
            clock.advance(1.0)  # one upload a second: 701 uploads span 700 s, well inside the hour
        assert results == [True] * 700 + [False]
        clock.advance(3600 - 701)  # t = 3600: the first upload (at 0) is an hour old
        assert state.media_allowed() and not state.media_allowed()
    finally:
        asyncio.run(state.close())


# ---------------------------------------------------------------------------------------------------------------
# calibrated: latency distributions

DRAWS = 40_000


def draws(latency: LatencySettings, seed: int = 5) -> list[float]:
    rng = random.Random(seed)
    return [sample_ms(latency, rng) for _ in range(DRAWS)]


def test_fixed_latency_is_exact():
    assert set(draws(LatencySettings(distribution="fixed", ms=50.0))) == {50.0}


def test_uniform_latency_stays_in_its_bounds_with_the_uniform_moments():
    values = draws(LatencySettings(distribution="uniform", min_ms=20.0, max_ms=80.0))
    assert 20.0 <= min(values) and max(values) <= 80.0
    assert statistics.fmean(values) == pytest.approx(50.0, rel=0.01)
    assert statistics.pstdev(values) == pytest.approx(60.0 / math.sqrt(12), rel=0.02)
    # Each quarter of the range gets a quarter of the draws.
    quarters = [sum(20 + 15 * q <= v < 20 + 15 * (q + 1) for v in values) / DRAWS for q in range(4)]
    assert quarters == pytest.approx([0.25] * 4, abs=0.01)


def test_normal_latency_has_its_mean_and_stddev_and_is_clamped_at_zero():
    values = draws(LatencySettings(distribution="normal", mean_ms=200.0, stddev_ms=30.0))
    assert statistics.fmean(values) == pytest.approx(200.0, rel=0.01)
    assert statistics.pstdev(values) == pytest.approx(30.0, rel=0.03)
    # Mean 5 ms, stddev 10 ms: a normal draw is negative with probability Φ(-0.5) ≈ 0.3085; those wait 0 ms.
    clamped = draws(LatencySettings(distribution="normal", mean_ms=5.0, stddev_ms=10.0))
    assert min(clamped) == 0.0
    assert sum(v == 0.0 for v in clamped) / DRAWS == pytest.approx(0.5 * math.erfc(0.5 / math.sqrt(2)), abs=0.01)


def test_lognormal_latency_has_the_mean_and_stddev_of_the_result():
    values = draws(LatencySettings(distribution="lognormal", mean_ms=80.0, stddev_ms=40.0))
    assert min(values) > 0
    assert statistics.fmean(values) == pytest.approx(80.0, rel=0.02)
    assert statistics.pstdev(values) == pytest.approx(40.0, rel=0.05)
    # Right-skewed: the median is mean / sqrt(1 + cv²), below the mean.
    assert statistics.median(values) == pytest.approx(80.0 / math.sqrt(1.25), rel=0.02)


def test_latency_draws_are_reproducible_from_the_seed():
    latency = LatencySettings(distribution="lognormal", mean_ms=80.0, stddev_ms=40.0)
    assert draws(latency, seed=9)[:100] == draws(latency, seed=9)[:100]
    assert draws(latency, seed=9)[:100] != draws(latency, seed=10)[:100]
