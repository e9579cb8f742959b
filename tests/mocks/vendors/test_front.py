"""The HA front's decisions on a fake clock with scripted backends (httpx.MockTransport): no processes, no sleeps."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from harness.clock import FakeClock
from mocks.vendors.front import Backend, FrontState
from mocks.vendors.profiles import MANUAL_FAILOVER_S, get_profile
from mocks.vendors.settings import FrontSettings


def make_front(settings: FrontSettings, down: set[str], promoted: list[str]) -> FrontState:
    def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if request.url.path == "/_vendor/promote":
            promoted.append(host)
            return httpx.Response(200, json={"promoted": True})
        if host in down:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"status": "ok"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    backends = [Backend("primary", "http://primary"), Backend("standby", "http://standby")]
    return FrontState(settings, backends, "key", FakeClock(), client)


async def checks(front: FrontState, rounds: int) -> None:
    for _ in range(rounds):
        await asyncio.gather(*(front.check(backend) for backend in front.backends))
        await asyncio.sleep(0)
    await asyncio.gather(*front.tasks)


def test_automatic_failover_happens_at_the_threshold_not_before():
    async def scenario() -> None:
        promoted: list[str] = []
        front = make_front(FrontSettings(failure_threshold=3), {"primary"}, promoted)
        await checks(front, 2)
        assert front.current.name == "primary" and not front.events  # two failures: not yet
        await checks(front, 1)
        assert [e["event"] for e in front.events] == ["detected", "switched"]
        assert front.current.name == "standby" and promoted == ["standby"]

    asyncio.run(scenario())


def test_a_dead_standby_is_noted_but_never_triggers_a_switch():
    async def scenario() -> None:
        front = make_front(FrontSettings(failure_threshold=2), {"standby"}, [])
        await checks(front, 3)
        assert [(e["event"], e["backend"]) for e in front.events] == [("detected", "standby")]
        assert front.current.name == "primary"

    asyncio.run(scenario())


def test_a_recovered_backend_is_usable_again_without_failback():
    async def scenario() -> None:
        down = {"primary"}
        front = make_front(FrontSettings(failure_threshold=1), down, [])
        await checks(front, 1)
        down.clear()
        await checks(front, 1)
        assert [e["event"] for e in front.events] == ["detected", "switched", "recovered"]
        assert front.current.name == "standby"

    asyncio.run(scenario())


@pytest.mark.parametrize("time_scale", [0.01, 0.001])
def test_slow_failover_operator_switches_exactly_47_scaled_minutes_after_detection(time_scale):
    async def scenario() -> None:
        settings = get_profile("slow-failover", time_scale).front
        assert settings is not None
        front = make_front(settings, {"primary"}, [])
        await checks(front, settings.failure_threshold)
        detected, switched = front.events
        assert switched["how"] == "manual (simulated operator)"
        assert switched["at"] - detected["at"] == pytest.approx(MANUAL_FAILOVER_S * time_scale)

    asyncio.run(scenario())
