"""Upstream faults against a real mock WhatsApp API process: outage, error burst, latency, throttle."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from ground.errors import FaultError
from ground.net import free_port
from harness.faults import REGISTRY, FaultTargets, FaultTimeline, UpstreamTarget
from tests.fixtures.mock_server import MockServer

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

PNID = "100000000000001"
TEXT = {"messaging_product": "whatsapp", "to": "4915112345678", "type": "text", "text": {"body": "hello"}}


def send(server: MockServer) -> httpx.Response:
    return httpx.post(f"{server.base_url}/v22.0/{PNID}/messages", json=TEXT, headers=server.graph_headers, timeout=10)


def targets_for(server: MockServer) -> FaultTargets:
    return FaultTargets(upstream={"whatsapp": UpstreamTarget(server.base_url, server.config.admin_token)})


def test_outage_errors_and_latency_come_and_go(mock_server: MockServer, tmp_path: Path) -> None:
    targets = targets_for(mock_server)
    timeline = FaultTimeline(tmp_path / "faults.jsonl")
    baseline = send(mock_server).status_code
    assert baseline != 503

    outage = REGISTRY.get("upstream-outage").create({"route": "messages"}, targets, "whatsapp")
    timeline.apply(outage, "inject", "o1")
    assert send(mock_server).status_code == 503
    timeline.apply(outage, "clear", "o1")
    assert send(mock_server).status_code == baseline

    errors = REGISTRY.get("upstream-errors").create({"code": 130429, "http_status": 429}, targets, "whatsapp")
    timeline.apply(errors, "inject", "e1")
    answer = send(mock_server)
    assert answer.status_code == 429 and answer.json()["error"]["code"] == 130429
    timeline.apply(errors, "clear", "e1")
    assert send(mock_server).status_code == baseline

    latency = REGISTRY.get("upstream-latency").create({"ms": 300}, targets, "whatsapp")
    timeline.apply(latency, "inject", "l1")
    start = time.monotonic()
    send(mock_server)
    assert time.monotonic() - start >= 0.3  # a lower bound: the mock cannot answer before its delay
    timeline.apply(latency, "clear", "l1")
    faults = httpx.get(f"{mock_server.base_url}/_mock/faults", headers=mock_server.admin_headers).json()["faults"]
    assert faults == []
    assert [e.action for e in timeline.events] == ["inject", "clear"] * 3


def test_throttle_patches_limits_and_restores_them(mock_server: MockServer) -> None:
    limits_url = f"{mock_server.base_url}/_mock/limits"
    before = httpx.get(limits_url, headers=mock_server.admin_headers).json()
    fault = REGISTRY.get("upstream-throttle").create(
        {"throughput_per_second": 2, "tier": "unlimited"}, targets_for(mock_server), "whatsapp"
    )
    fault.inject()
    during = httpx.get(limits_url, headers=mock_server.admin_headers).json()
    assert during["throughput_per_second"] == 2 and during["tier"] == "unlimited"
    fault.clear()
    after = httpx.get(limits_url, headers=mock_server.admin_headers).json()
    assert (after["throughput_per_second"], after["tier"]) == (before["throughput_per_second"], before["tier"])


def test_control_plane_failures_are_fault_errors(mock_server: MockServer) -> None:
    wrong_token = FaultTargets(upstream={"w": UpstreamTarget(mock_server.base_url, "not-the-admin-token")})
    with pytest.raises(FaultError, match="answered 401"):
        REGISTRY.get("upstream-outage").create({}, wrong_token, "w").inject()
    nobody = FaultTargets(upstream={"w": UpstreamTarget(f"http://127.0.0.1:{free_port()}", timeout_s=1)})
    with pytest.raises(FaultError, match="ConnectError"):
        REGISTRY.get("upstream-errors").create({}, nobody, "w").inject()
    with pytest.raises(FaultError, match="at least one limit"):
        REGISTRY.get("upstream-throttle").create({}, targets_for(mock_server), "whatsapp").inject()
