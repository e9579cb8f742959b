"""The HA front's decisions on a fake clock with scripted backends (httpx.MockTransport): no processes, no sleeps."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ground.clock import FakeClock
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


@pytest.mark.parametrize(
    ("hung", "figure"), [(False, "threshold × interval"), (True, "threshold × (interval + timeout)")]
)
def test_fast_failover_switches_within_its_stated_figure_on_the_real_check_loop(hung, figure):
    # The fast-failover truth: killed right after a good check (the worst phase), the front serves from the
    # standby threshold × interval later (1.5 s) when the primary refuses connections, and threshold ×
    # (interval + timeout) later (3 s) when it hangs until each check times out.
    settings = get_profile("fast-failover").front
    assert settings is not None
    clock = FakeClock()
    killed_at: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/_vendor/promote" or request.url.host == "standby":
            return httpx.Response(200, json={"status": "ok"})
        if not killed_at:
            killed_at.append(clock.now())  # this check succeeds; the primary dies right after it
            return httpx.Response(200, json={"status": "ok"})
        if hung:
            clock.advance(settings.timeout_s)
            raise httpx.ReadTimeout("hung", request=request)
        raise httpx.ConnectError("refused", request=request)

    async def scenario() -> float:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        backends = [Backend("primary", "http://primary"), Backend("standby", "http://standby")]
        front = FrontState(settings, backends, "key", clock, client)
        loop = asyncio.create_task(front.check_loop())
        try:
            for _ in range(10_000):
                if any(event["event"] == "switched" for event in front.events):
                    break
                await asyncio.sleep(0)
        finally:
            loop.cancel()
            await asyncio.gather(loop, *front.tasks, return_exceptions=True)
            await client.aclose()
        detected, switched = front.events[:2]
        assert (detected["event"], detected["failures"]) == ("detected", settings.failure_threshold)
        assert switched["event"] == "switched" and switched["backend"] == "standby"
        return float(switched["at"]) - killed_at[0]

    expected = settings.failure_threshold * (settings.interval_s + (settings.timeout_s if hung else 0.0))
    assert expected == (3.0 if hung else 1.5), figure  # the figures the profile's docstring states
    assert asyncio.run(scenario()) == pytest.approx(expected, abs=1e-6)
