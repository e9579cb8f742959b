"""Each profile shows its behaviour end to end: real vendor process → real mock WhatsApp API → ledger."""

from __future__ import annotations

import random
import statistics

import httpx
import pytest

from mocks.whatsapp.config import LimitsConfig, MockConfig
from tests.fixtures.vendors import VENDOR_API_HEADERS
from tests.mocks.vendors.conftest import wait_until
from tests.mocks.vendors.e2e import drained, ledger, ledger_tokens, send_texts, stats, wait_ledger

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


def test_degrading_delay_climbs_with_the_backlog(reference_vendor, mock_server):
    # One worker, 40 ms a job: capacity 25/s, offered as fast as the API answers (far more): the queue grows.
    vendor = reference_vendor("degrading", overrides={"workers": 1, "service_ms": 40})
    acked = send_texts(vendor.base_url, 30)
    assert stats(vendor.base_url)["outbound"]["queue_depth"] > 0  # a backlog, not a sleep
    wait_ledger(mock_server, set(acked))
    delays = []
    with httpx.Client(base_url=vendor.base_url, headers=VENDOR_API_HEADERS) as client:
        for _token, message_id in acked.items():
            message = client.get(f"/api/messages/{message_id}").json()
            delays.append(message["sent_at"] - message["created_at"])
    # In send order, each message waits behind all earlier ones (unbounded queue, bounded pool).
    assert statistics.median(delays[-10:]) > statistics.median(delays[:10])


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
