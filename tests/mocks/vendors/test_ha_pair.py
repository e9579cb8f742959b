"""The HA pair behind the embedded front: detection, automatic vs manual failover, what the queue kind loses."""

from __future__ import annotations

import time

import httpx
import pytest

from mocks.whatsapp.config import LimitsConfig, MockConfig
from tests.mocks.vendors.conftest import wait_until
from tests.mocks.vendors.e2e import ledger_tokens, post_until_accepted, send_texts, wait_ledger

pytestmark = pytest.mark.slow

QUICK_FRONT = {"interval_s": 0.2, "timeout_s": 0.3, "failure_threshold": 2}


@pytest.fixture
def mock_config() -> MockConfig:
    return MockConfig(limits=LimitsConfig(enforce_customer_window=False, tier="unlimited"))


def front_status(pair) -> dict:
    return httpx.get(f"{pair.base_url}/_front/status", timeout=5).json()


def events_of(pair) -> list[str]:
    return [event["event"] for event in front_status(pair)["events"]]


def test_front_answers_health_and_routes_to_the_primary(reference_vendor, mock_server):
    pair = reference_vendor("fast-failover", front_overrides=QUICK_FRONT)
    health = httpx.get(f"{pair.base_url}/health", timeout=5)
    assert health.status_code == 200 and health.json()["role"] == "primary"
    assert front_status(pair)["active"] == "primary"
    assert httpx.get(f"{pair.standby.base_url}/health", timeout=5).json()["role"] == "standby"


def test_fast_failover_switches_after_detection_and_loses_no_acknowledged_message(reference_vendor, mock_server):
    # The primary is slow to drain (1 worker, 100 ms a job), so its durable outbox holds work when it dies.
    pair = reference_vendor(
        "fast-failover", front_overrides=QUICK_FRONT, overrides={"workers": 1, "service_ms": 100, "lease_s": 1.0}
    )
    before = send_texts(pair.base_url, 15)
    assert len(before) == 15
    killed_at = time.time()  # the front stamps its events with the same wall clock
    pair.primary.kill()
    wait_until(lambda: "switched" in events_of(pair), 20, "automatic failover")
    events = front_status(pair)["events"]
    assert [e["event"] for e in events][:2] == ["detected", "switched"]
    assert events[1]["how"] == "automatic" and events[1]["backend"] == "standby"
    # Detection took the threshold's consecutive failed checks (nothing was proxied meanwhile, so no passive
    # failure counts), hence at least (threshold − 1) check intervals after the kill; the switch follows the
    # detection at once. The exact figure, threshold × interval, is checked on a fake clock in test_front.py.
    threshold, interval = QUICK_FRONT["failure_threshold"], QUICK_FRONT["interval_s"]
    assert events[0]["failures"] == threshold and events[0]["reason"] == "ConnectError"
    assert events[0]["at"] - killed_at >= (threshold - 1) * interval
    assert events[1]["at"] >= events[0]["at"]
    after_id, _seen = post_until_accepted(pair.base_url, "sb-vend01-zz1", 1)
    assert after_id.startswith("msg_")
    assert httpx.get(f"{pair.base_url}/health", timeout=5).json()["role"] == "standby"
    # The standby took over the dead primary's outbox after the lease: every acknowledged message arrives.
    tokens = wait_ledger(mock_server, set(before), timeout=40)
    assert set(before) <= set(tokens)
    # Duplicates only from jobs the primary had sent but not yet marked done: at most one per worker (1 here).
    duplicates = len(tokens) - len(set(tokens))
    assert duplicates <= 1, f"{duplicates} duplicates from a primary with one worker"


def test_slow_failover_waits_for_the_operator_and_loses_the_in_memory_queue(reference_vendor, mock_server):
    # time_scale 0.001: the research's 47 minutes of manual failover become 2.8 s.
    pair = reference_vendor(
        "slow-failover",
        time_scale=0.001,
        front_overrides=QUICK_FRONT,
        overrides={"workers": 1, "service_ms": 200},
    )
    before = send_texts(pair.base_url, 10)
    assert len(before) == 10
    pair.primary.kill()
    wait_until(lambda: "detected" in events_of(pair), 20, "detection")
    during = httpx.post(
        f"{pair.base_url}/api/messages", json={"to": "4917000000099", "text": "during"}, timeout=5,
        headers={"Authorization": "Bearer reference-api-key"},
    )  # fmt: skip
    assert during.status_code == 503  # detected, not yet switched: the manual step is pending
    assert "manual" in during.json()["error"]["message"]
    wait_until(lambda: "switched" in events_of(pair), 30, "the simulated operator's switch")
    events = front_status(pair)["events"]
    assert events[1]["how"] == "manual (simulated operator)"
    post_until_accepted(pair.base_url, "sb-vend01-zz2", 2)
    # Whatever waited in the dead primary's memory is gone; the ledger shows which.
    delivered = set(ledger_tokens(mock_server))
    lost = set(before) - delivered
    assert lost, "the primary died with messages in its in-memory queue"


def test_serve_ha_pair_command_starts_three_processes_and_stops_them_all(tmp_path, mock_server):
    import os
    import re

    from ground.net import free_port
    from ground.services import ServiceProcess

    port = free_port()
    log = tmp_path / "ha-pair.log"
    args = ["vendor", "serve", "ha-pair", "--port", str(port), "--whatsapp-url", mock_server.base_url]
    args += ["--db", str(tmp_path / "ha.sqlite3"), "--log-dir", str(tmp_path)]
    service = ServiceProcess.python_module("ha-pair", args, health_url=f"http://127.0.0.1:{port}/health", log_path=log)
    with service:
        assert httpx.get(f"http://127.0.0.1:{port}/_front/status", timeout=5).json()["active"] == "primary"
        text = wait_until(lambda: "standby" in (t := log.read_text()) and t, 10, "the pids printed")
    pids = [int(pid) for pid in re.findall(r"\(pid (\d+)\)", text)]
    assert len(pids) == 3

    def gone(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    wait_until(lambda: all(gone(pid) for pid in pids), 15, "front, primary and standby stopped")


def test_manual_failover_without_an_operator_delay_waits_for_the_manual_step(reference_vendor, mock_server):
    front = {**QUICK_FRONT, "failover": "manual", "manual_delay_s": None}
    pair = reference_vendor("slow-failover", front_overrides=front)
    pair.primary.kill()
    wait_until(lambda: "detected" in events_of(pair), 20, "detection")
    # Detection alone changes nothing: still 503, still the dead primary, for as long as nobody acts.
    for _ in range(3):
        assert httpx.get(f"{pair.base_url}/health", timeout=5).status_code == 503
    assert front_status(pair)["active"] == "primary"
    switched = httpx.post(f"{pair.base_url}/_front/failover", timeout=10).json()
    assert switched == {"switched": True, "active": "standby"}
    assert httpx.get(f"{pair.base_url}/health", timeout=5).json()["role"] == "standby"
    assert front_status(pair)["events"][-1]["how"] == "manual (operator request)"
