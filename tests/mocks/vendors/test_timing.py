"""The vendor's own clock (mocks/vendors/timing.py), the injected latency's quantiles (latency.py) and the
harness-versus-vendor comparison (timing_check.py), on injected timers and synthetic figures: no sleeps."""

from __future__ import annotations

import asyncio
import random
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from analysis.stats import percentile
from ground.clock import FakeClock
from mocks.vendors.app import wait_at_least
from mocks.vendors.latency import quantile_ms, sample_ms
from mocks.vendors.settings import LatencySettings
from mocks.vendors.timing import ServiceTimer, TimingLog, note
from mocks.vendors.timing_check import Joined, compare, injection_checks, join
from tests.mocks.vendors.conftest import API_HEADERS, InProcessVendor

# ---------------------------------------------------------------------------------------------------------------
# The middleware on a tiny app and a scripted timer


def scripted(*readings: float) -> Callable[[], float]:
    values: Iterator[float] = iter(readings)
    return lambda: next(values)


def tiny_app(log: TimingLog, timer: Callable[[], float]) -> Starlette:
    async def send(request: Request) -> Response:
        note(request, correlation_id="sb-abcdef-1", message_id="msg_1", injected_ms=40.0)
        return JSONResponse({"id": "msg_1"}, status_code=202)

    async def plain(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def broken(request: Request) -> Response:
        raise RuntimeError("handler bug")

    routes = [
        Route("/api/messages", send, methods=["POST"]),
        Route("/api/plain", plain),
        Route("/health", plain),
        Route("/api/broken", broken),
    ]
    return Starlette(routes=routes, middleware=[Middleware(ServiceTimer, log=log, timer=timer, wall=lambda: 1.7e9)])


def test_the_response_carries_the_time_from_receipt_to_response_start_and_the_log_has_the_row():
    log = TimingLog()
    with TestClient(tiny_app(log, scripted(100.0, 100.0425))) as client:
        answer = client.post("/api/messages", json={})
    assert answer.status_code == 202
    assert answer.headers["server-timing"] == "app;dur=42.500"
    assert answer.headers["x-request-id"] == "1"
    (row,) = log.rows
    assert row == {
        "id": 1,
        "at": 1.7e9,
        "method": "POST",
        "path": "/api/messages",
        "status": 202,
        "dur_ms": pytest.approx(42.5),
        "correlation_id": "sb-abcdef-1",
        "message_id": "msg_1",
        "injected_ms": 40.0,
    }


def test_unnoted_requests_have_empty_notes_and_health_gets_the_header_but_no_row():
    log = TimingLog()
    with TestClient(tiny_app(log, scripted(1.0, 1.002, 2.0, 2.003))) as client:
        health = client.get("/health")
        plain = client.get("/api/plain")
    assert health.headers["server-timing"] == "app;dur=2.000" and plain.headers["server-timing"] == "app;dur=3.000"
    (row,) = log.rows  # /health is polled by fronts and checks: it never evicts the rows meant to be read
    assert (row["id"], row["path"], row["correlation_id"], row["message_id"], row["injected_ms"]) == (
        2,
        "/api/plain",
        None,
        None,
        None,
    )


def test_a_handler_that_raises_is_logged_as_a_500_with_the_time_until_it_raised():
    log = TimingLog()
    with TestClient(tiny_app(log, scripted(5.0, 5.010)), raise_server_exceptions=False) as client:
        assert client.get("/api/broken").status_code == 500
    (row,) = log.rows
    assert row["status"] == 500 and row["dur_ms"] == pytest.approx(10.0)


def test_note_refuses_unknown_fields():
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    note(request, correlation_id="x")  # outside the middleware: nothing to attach to, no error
    with pytest.raises(ValueError, match="unknown timing note"):
        note(request, latency=1.0)


def test_the_log_is_a_bounded_ring_that_counts_what_it_evicted_and_pages_by_id():
    log = TimingLog(capacity=3)
    for _ in range(5):
        log.append({"id": log.next_id()})
    assert [row["id"] for row in log.rows] == [3, 4, 5] and log.evicted == 2
    assert [row["id"] for row in log.page(after=3)] == [4, 5]
    assert [row["id"] for row in log.page(after=0, limit=2)] == [3, 4]
    with pytest.raises(ValueError):
        TimingLog(capacity=0)


# ---------------------------------------------------------------------------------------------------------------
# The reference vendor: its rows, its endpoint, its floor


def test_the_vendor_logs_each_send_with_its_token_message_id_and_draw(in_process_vendor):
    vendor: InProcessVendor = in_process_vendor(
        "calibrated", api_latency={"distribution": "fixed", "ms": 3.0}, api_error_rate=0.0
    )
    answer = vendor.post("/api/messages", {"to": "15550001111", "text": "Hello sb-abcdef-2s"})
    assert answer.status_code == 202
    header_ms = float(answer.headers["server-timing"].removeprefix("app;dur="))
    page = vendor.get("/_vendor/timings").json()
    (row,) = [r for r in page["rows"] if r["path"] == "/api/messages"]
    assert row["correlation_id"] == "sb-abcdef-2s" and row["message_id"] == answer.json()["id"]
    assert row["injected_ms"] == 3.0 and row["status"] == 202
    assert row["dur_ms"] >= 3.0  # the draw is a floor: the vendor never answers before it
    assert header_ms == pytest.approx(row["dur_ms"], abs=0.001)
    assert str(row["id"]) == answer.headers["x-request-id"]
    assert page["evicted"] == 0 and page["capacity"] == 50_000 and page["more"] is False


def test_an_injected_error_is_logged_with_its_draw_and_no_token(in_process_vendor):
    vendor = in_process_vendor("calibrated", api_latency={"distribution": "fixed", "ms": 1.0}, api_error_rate=1.0)
    assert vendor.post("/api/messages", {"to": "15550001111", "text": "Hi sb-abcdef-3"}).status_code == 500
    (row,) = vendor.get("/_vendor/timings").json()["rows"]
    assert (row["status"], row["injected_ms"], row["correlation_id"], row["message_id"]) == (500, 1.0, None, None)


def test_the_timings_endpoint_pages_needs_the_key_and_checks_its_parameters(in_process_vendor):
    vendor = in_process_vendor("steady")
    for i in range(3):
        vendor.post("/api/messages", {"to": "15550001111", "text": f"t sb-abcdef-{i}"})
    first = vendor.get("/_vendor/timings", limit=2).json()
    assert [r["id"] for r in first["rows"]] == [1, 2] and first["more"] is True and first["last_id"] == 2
    rest = vendor.get("/_vendor/timings", after=first["last_id"]).json()
    assert [r["id"] for r in rest["rows"]] == [3] and rest["more"] is False
    assert all(r["injected_ms"] is None for r in first["rows"] + rest["rows"])  # steady injects nothing
    assert vendor.client.get("/_vendor/timings").status_code == 401
    for params in ({"after": "x"}, {"after": -1}, {"limit": 0}, {"limit": 10_001}):
        answer = vendor.client.get("/_vendor/timings", params=params, headers=API_HEADERS)
        assert answer.status_code == 400, params


class EarlyClock(FakeClock):
    """A loop timer whose first wait ends 0.8 ms early, as uvloop's whole-millisecond timers can."""

    def __init__(self) -> None:
        super().__init__(start=0.0)  # small numbers: the arithmetic below is exact to well under a nanosecond
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await super().sleep(seconds - 0.0008 if len(self.sleeps) == 1 else seconds)


def test_the_injected_wait_sleeps_off_an_early_wake_up():
    clock = EarlyClock()
    start = clock.monotonic()
    asyncio.run(wait_at_least(clock, 0.050))
    assert clock.monotonic() - start >= 0.050
    assert len(clock.sleeps) == 2 and clock.sleeps[1] == pytest.approx(0.0008)


# ---------------------------------------------------------------------------------------------------------------
# The injected distribution's quantiles


@pytest.mark.parametrize(
    "latency",
    [
        LatencySettings(distribution="uniform", min_ms=20.0, max_ms=80.0),
        LatencySettings(distribution="normal", mean_ms=200.0, stddev_ms=30.0),
        LatencySettings(distribution="lognormal", mean_ms=60.0, stddev_ms=40.0),
    ],
)
def test_the_quantiles_are_where_the_draws_fall(latency: LatencySettings):
    rng = random.Random(3)
    draws = [sample_ms(latency, rng) for _ in range(40_000)]
    for pct in (50, 95, 99):
        assert percentile(draws, pct) == pytest.approx(quantile_ms(latency, pct), rel=0.02)


def test_the_calibrated_truth_figures():
    latency = LatencySettings(distribution="lognormal", mean_ms=60.0, stddev_ms=40.0)
    assert [round(quantile_ms(latency, p), 1) for p in (50, 95, 99)] == [49.9, 135.4, 204.6]
    assert quantile_ms(LatencySettings(distribution="fixed", ms=50.0), 99) == 50.0
    with pytest.raises(ValueError):
        quantile_ms(latency, 100)


# ---------------------------------------------------------------------------------------------------------------
# The comparison


def record(token: str, latency_ms: float, outcome: str = "ok") -> dict[str, Any]:
    return {"correlation_id": token, "latency_ms": latency_ms, "outcome": outcome}


def row(token: str | None, dur_ms: float, status: int = 202, injected_ms: float | None = None) -> dict[str, Any]:
    return {"correlation_id": token, "dur_ms": dur_ms, "status": status, "injected_ms": injected_ms}


def test_join_pairs_by_token_and_refuses_a_one_sided_request():
    rows = [row("a", 10.0), row("b", 20.0), row(None, 5.0, status=500), row(None, 1.0, status=200)]
    joined = join([record("b", 21.0), record("a", 11.0), record("c", 9.0, outcome="failed")], rows)
    assert (joined.correlation_ids, joined.harness_ms, joined.vendor_ms) == (("b", "a"), (21.0, 11.0), (20.0, 10.0))
    with pytest.raises(ValueError, match="not in the records"):
        join([record("a", 11.0)], rows)
    with pytest.raises(ValueError, match="no vendor row"):
        join([record("a", 11.0), record("b", 21.0), record("z", 1.0)], rows)
    with pytest.raises(ValueError, match="twice"):
        join([record("a", 11.0), record("a", 12.0)], rows)


def test_compare_allows_5_percent_or_2_ms_whichever_is_larger_and_no_request_faster_than_served():
    vendor = [float(v) for v in range(1, 101)]  # p50 = 50, p95 = 95, p99 = 99 (nearest rank)
    by = {c.name: c for c in compare([v + 2.0 for v in vendor], vendor)}
    assert by["p50"].ok and by["p50"].allowed == 2.5 and by["p99"].allowed == pytest.approx(4.95)
    assert {c.name for c in compare([v * 1.06 for v in vendor], vendor) if not c.ok} == {"p50", "p95", "p99"}
    small = [1.0, 2.0, 3.0]
    assert all(c.ok for c in compare([s + 1.9 for s in small], small))  # 2 ms is the floor of the tolerance
    faster = [v + 1.0 for v in vendor]
    faster[10] = vendor[10] - 0.5  # one request measured 0.5 ms faster than the vendor served it
    failed = [c for c in compare(faster, vendor) if not c.ok]
    assert [c.name for c in failed] == ["floor (largest vendor - harness)"] and failed[0].measured == 0.5


def test_injection_checks_catch_a_vendor_that_did_not_wait_or_drew_from_elsewhere():
    latency = LatencySettings(distribution="lognormal", mean_ms=60.0, stddev_ms=40.0)
    rng = random.Random(9)
    draws = [sample_ms(latency, rng) for _ in range(400)]
    ids = tuple(str(i) for i in range(400))

    def joined(realised: list[float], drawn: list[float]) -> Joined:
        return Joined(ids, tuple(realised), tuple(realised), tuple(drawn))

    honest = [d + 1.0 for d in draws]
    assert all(c.ok for c in injection_checks(joined(honest, draws), latency))
    no_wait = [d * 0.5 for d in draws]  # noted its draws but waited half
    failed = {c.name for c in injection_checks(joined(no_wait, draws), latency) if not c.ok}
    assert "realised floor (largest draw - realised)" in failed and "realised p50 vs drawn" in failed
    fixed = [50.0] * 400  # drew a fixed 50 ms instead of the lognormal
    assert "injected share <= q50" in {c.name for c in injection_checks(joined(fixed, fixed), latency) if not c.ok}
