"""Each profile shows its behaviour end to end: real vendor process → real mock WhatsApp API → ledger."""

from __future__ import annotations

import bisect
import random
import statistics
import time

import httpx
import pytest

from ground.correlation import make_token
from mocks.whatsapp.config import LimitsConfig, MockConfig
from tests.fixtures.vendors import VENDOR_API_HEADERS
from tests.mocks.vendors.conftest import wait_until
from tests.mocks.vendors.e2e import RUN_TAG, drained, ledger, ledger_tokens, send_texts, stats, wait_ledger

pytestmark = pytest.mark.slow

FAST_RETRY = {"base_s": 0.05, "max_s": 0.5, "max_attempts": 60}


@pytest.fixture
def mock_config() -> MockConfig:
    # Business-initiated texts to fresh numbers: no 24 h window, no reach tier in the way.
    return MockConfig(limits=LimitsConfig(enforce_customer_window=False, tier="unlimited"))


def test_steady_respects_a_whatsapp_throttle_with_no_loss(reference_vendor, mock_server):
    limited = httpx.patch(
        f"{mock_server.base_url}/_mock/limits", json={"throughput_per_second": 8}, headers=mock_server.admin_headers
    )
    assert limited.status_code == 200
    vendor = reference_vendor("steady", overrides={"retry": FAST_RETRY, "send_rate_per_s": 200, "send_burst": 200})
    acked = send_texts(vendor.base_url, 30)
    assert len(acked) == 30
    tokens = wait_ledger(mock_server, set(acked))
    assert sorted(tokens) == sorted(acked)  # every acknowledged message exactly once
    assert stats(vendor.base_url)["outbound"]["retried"] > 0  # the throttle was really hit, and absorbed


def test_lossy_loses_exactly_the_messages_it_lists_and_the_ledger_shows_which(reference_vendor, mock_server):
    # Threshold 0: the queue always counts as under pressure, so the seeded draws alone decide the drops.
    overrides = {"loss_queue_threshold": 0, "loss_fraction": 0.3, "seed": 3, "service_ms": 10}
    vendor = reference_vendor("lossy", overrides=overrides)
    acked = send_texts(vendor.base_url, 40)
    assert len(acked) == 40  # it acknowledged everything
    wait_until(lambda: drained(vendor.base_url), 30, "lossy queue drained")
    dropped_ids = set(stats(vendor.base_url)["outbound"]["dropped_ids"])
    truth = random.Random(3)
    assert len(dropped_ids) == sum(truth.random() < 0.3 for _ in range(40)) > 0
    expected = {token for token, message_id in acked.items() if message_id not in dropped_ids}
    in_ledger = ledger_tokens(mock_server)
    assert sorted(in_ledger) == sorted(expected)
    assert set(acked) - set(in_ledger) == {t for t, m in acked.items() if m in dropped_ids}


def send_paced(base_url: str, count: int, rate: float, *, first: int = 0) -> dict[str, str]:
    """Offer ``count`` texts at about ``rate`` per second (bounded: count / rate seconds plus request time)."""
    acked: dict[str, str] = {}
    with httpx.Client(base_url=base_url, headers=VENDOR_API_HEADERS, timeout=10) as client:
        started = time.monotonic()
        for seq in range(first, first + count):
            pause = started + (seq - first) / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # the load generator's pacing, not a stand-in for the vendor's behaviour
            token = make_token(RUN_TAG, 0, seq)
            response = client.post("/api/messages", json={"to": f"49170{seq:07d}", "text": f"hello {token}"})
            if response.status_code == 202:
                acked[token] = response.json()["id"]
    return acked


def test_degrading_queue_and_delay_grow_as_the_queueing_model_predicts(reference_vendor, mock_server):
    # The profile's 2 workers, with 100 ms slots instead of 50 to keep the test short: μ = 20/s. Offered
    # about 40/s for 3 s, the backlog must grow at λ − μ and each message's delay at (λ − μ)/μ per second,
    # both rates measured in this run (arrivals from created_at, service from sent_at), not assumed.
    vendor = reference_vendor("degrading", overrides={"service_ms": 100})
    configured_mu = 2 / 0.1
    acked = send_paced(vendor.base_url, 120, rate=40.0)
    assert len(acked) == 120
    wait_until(lambda: drained(vendor.base_url), 60, "degrading queue drained")
    wait_ledger(mock_server, set(acked))
    with httpx.Client(base_url=vendor.base_url, headers=VENDOR_API_HEADERS) as client:
        messages = [client.get(f"/api/messages/{mid}").json() for mid in acked.values()]
    arrivals = sorted(m["created_at"] for m in messages)
    sends = sorted(m["sent_at"] for m in messages)
    lam = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    mu = (len(sends) - 1) / (sends[-1] - sends[0])
    assert lam > 1.4 * mu, f"offered {lam:.1f}/s against {mu:.1f}/s: no overload, the run proves nothing"
    # The schedule caps the service rate at workers / slot; with no slot overrun it is that rate exactly.
    assert mu <= configured_mu * 1.05
    if stats(vendor.base_url)["outbound"]["slot_overruns"] == 0:
        assert mu == pytest.approx(configured_mu, rel=0.05)
    # The backlog each message found on arrival, and its delay, against its arrival time.
    by_arrival = sorted(messages, key=lambda m: m["created_at"])
    backlog = [index - bisect.bisect_right(sends, m["created_at"]) for index, m in enumerate(by_arrival)]
    delays = [m["sent_at"] - m["created_at"] for m in by_arrival]
    growth = statistics.linear_regression([m["created_at"] for m in by_arrival], backlog).slope
    climb = statistics.linear_regression([m["created_at"] for m in by_arrival], delays).slope
    assert growth == pytest.approx(lam - mu, rel=0.2), f"queue grew {growth:.1f}/s; λ − μ = {lam - mu:.1f}/s"
    assert climb == pytest.approx((lam - mu) / mu, rel=0.2), f"delay climbed {climb:.2f} s/s"
    assert statistics.median(delays[-10:]) > 3 * statistics.median(delays[:10])


def test_lossy_loses_nothing_below_its_queue_threshold_and_drops_above_it(reference_vendor, mock_server):
    # The shipped threshold (20 waiting jobs) and 20 msg/s worker; p raised to 0.5 so a short run shows drops.
    vendor = reference_vendor("lossy", overrides={"loss_fraction": 0.5, "seed": 5})
    # Below the threshold: 15 sends, paced under the worker's 20/s, never find 20 jobs waiting.
    calm = send_paced(vendor.base_url, 15, rate=10.0)
    wait_until(lambda: drained(vendor.base_url), 30, "calm sends drained")
    assert stats(vendor.base_url)["outbound"]["dropped"] == 0
    # Above it: 80 sends as fast as the API answers (far above 20/s), so the queue passes 20.
    burst_list = list(send_texts(vendor.base_url, 80, first=100).items())
    wait_until(lambda: drained(vendor.base_url), 30, "burst drained")
    out = stats(vendor.base_url)["outbound"]
    dropped = set(out["dropped_ids"])
    assert out["failed"] == 0 and dropped, "a healthy mock: every loss is a drop under pressure"
    # The first 20 of the burst arrived with fewer than 20 jobs waiting: none of them can have been dropped.
    assert not dropped & {message_id for _token, message_id in burst_list[:20]}
    acked = {**calm, **dict(burst_list)}
    expected = {token for token, message_id in acked.items() if message_id not in dropped}
    assert sorted(ledger_tokens(mock_server)) == sorted(expected)  # lost = dropped, exactly


def test_flaky_media_answers_503_after_the_nth_upload(reference_vendor, mock_server):
    vendor = reference_vendor("flaky-media", overrides={"media_fail_after": 4})
    statuses = []
    with httpx.Client(base_url=vendor.base_url, headers=VENDOR_API_HEADERS, timeout=10) as client:
        for index in range(7):
            png = b"\x89PNG\r\n\x1a\n" + bytes([index]) * 200
            response = client.post(
                "/api/media", files={"file": (f"{index}.png", png, "image/png")}, data={"type": "image/png"}
            )
            statuses.append(response.status_code)
    assert statuses == [201] * 4 + [503] * 3


def test_calibrated_injects_exactly_its_seeded_error_rate_and_loses_nothing(reference_vendor, mock_server):
    vendor = reference_vendor(
        "calibrated", overrides={"api_error_rate": 0.25, "seed": 11, "api_latency": {"distribution": "fixed", "ms": 5}}
    )
    acked = send_texts(vendor.base_url, 40)
    truth = random.Random(11)
    expected_failures = sum(truth.random() < 0.25 for _ in range(40))
    assert 40 - len(acked) == expected_failures > 0
    tokens = wait_ledger(mock_server, set(acked))
    assert sorted(tokens) == sorted(acked)
    assert len(ledger(mock_server)) == len(acked)
