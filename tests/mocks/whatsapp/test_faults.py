"""Fault injection on Graph routes: outage, error bursts, latency on the injected clock, slow bodies, scoping."""

from __future__ import annotations

import random

import httpx
import pytest
from starlette.applications import Starlette

from ground.clock import FakeClock
from mocks.whatsapp.fault_middleware import ConnectionDropped, classify
from mocks.whatsapp.faults import FaultSet, FaultSpec
from tests.mocks.whatsapp.helpers import ADMIN, PNID, SEND, error_of, template

pytestmark = pytest.mark.anyio


async def _fault(client: httpx.AsyncClient, **body: object) -> str:
    response = await client.post("/_mock/faults", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_classify_paths() -> None:
    assert classify(f"/v22.0/{PNID}/messages") == ("messages", PNID)
    assert classify(f"/{PNID}/messages") == ("messages", PNID)
    assert classify(f"/v22.0/{PNID}/media") == ("media", PNID)
    assert classify("/v22.0/123456") == ("media", None)
    assert classify("/mock-cdn/1/2/3") == ("media", None)
    assert classify("/_mock/ledger") == ("control", None)


async def test_outage_503_for_a_window_then_recovery(mock_client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    await _fault(mock_client, kind="outage", duration_s=30)
    response = await mock_client.post(SEND, json=template())
    assert response.status_code == 503 and error_of(response)["code"] == 133004
    assert (await mock_client.get("/_mock/ledger", headers=ADMIN)).status_code == 200  # control plane unaffected
    fake_clock.advance(30)
    assert (await mock_client.post(SEND, json=template())).status_code == 200


async def test_outage_drop_closes_the_connection(mock_client: httpx.AsyncClient) -> None:
    await _fault(mock_client, kind="outage", mode="drop")
    with pytest.raises(ConnectionDropped):  # in-process; a real server closes the socket (test_server.py)
        await mock_client.post(SEND, json=template())


async def test_error_burst_with_probability_is_reproducible_by_seed(mock_client: httpx.AsyncClient) -> None:
    await _fault(mock_client, kind="error", code=131000, probability=0.3, seed=7, route="messages")
    statuses = []
    for i in range(50):
        statuses.append((await mock_client.post(SEND, json=template(to=f"4915{i:08d}"))).status_code)
    rng = random.Random(7)
    expected = [500 if rng.random() < 0.3 else 200 for _ in range(50)]
    assert statuses == expected
    assert 5 < statuses.count(500) < 25


async def test_error_http_status_override_and_scoping(mock_client: httpx.AsyncClient) -> None:
    await _fault(mock_client, kind="error", code=130429, http_status=429, route="media")
    assert (await mock_client.post(SEND, json=template())).status_code == 200  # messages not in scope
    response = await mock_client.get("/v22.0/123456")
    assert response.status_code == 429 and error_of(response)["code"] == 130429
    await mock_client.delete("/_mock/faults", headers=ADMIN)
    await _fault(mock_client, kind="error", code=131000, phone_number_id="999")
    assert (await mock_client.post(SEND, json=template(to="4915100000002"))).status_code == 200


async def test_latency_sleeps_on_the_injected_clock(mock_client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    await _fault(mock_client, kind="latency", ms=250)
    before = fake_clock.now()
    assert (await mock_client.post(SEND, json=template())).status_code == 200
    assert fake_clock.now() - before == pytest.approx(0.25)


@pytest.mark.parametrize(
    "params",
    [
        {"distribution": "uniform", "min_ms": 10, "max_ms": 20},
        {"distribution": "normal", "mean_ms": 100, "stddev_ms": 10},
        {"distribution": "lognormal", "mean_ms": 100, "stddev_ms": 50},
        {"distribution": "fixed", "ms": 100, "jitter_ms": 20},
    ],
)
def test_latency_distributions_have_the_asked_shape(params: dict[str, float]) -> None:
    faults = FaultSet(seed=1)
    fault = faults.add(FaultSpec(kind="latency", seed=3, **params), now=0.0)  # type: ignore[arg-type]
    delays = [fault.delay_s() * 1000 for _ in range(4000)]
    mean = sum(delays) / len(delays)
    assert min(delays) >= 0
    if params["distribution"] == "uniform":
        assert 10 <= min(delays) and max(delays) <= 20 and mean == pytest.approx(15, abs=0.5)
    elif params["distribution"] == "fixed":
        assert 80 <= min(delays) and max(delays) <= 120
    else:
        assert mean == pytest.approx(100, rel=0.05)


async def test_slow_fault_trickles_the_body(
    mock_app: Starlette, mock_client: httpx.AsyncClient, fake_clock: FakeClock
) -> None:
    await _fault(mock_client, kind="slow", bytes_per_second=100)
    before = fake_clock.now()
    response = await mock_client.post(SEND, json=template())
    assert response.status_code == 200 and response.json()["messages"]
    assert fake_clock.now() - before == pytest.approx(len(response.content) / 100, rel=0.01)
