"""Messaging limits per business portfolio with automatic scaling, and the automatic throughput upgrade
(docs/whatsapp-2026.md §2-3), on a fake clock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ground.clock import FakeClock
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import LimitsConfig, MockConfig, PhoneNumberConfig
from mocks.whatsapp.limiters import Limiters
from mocks.whatsapp.webhooks.payloads import Contact, Update, batch_payload, throughput_upgrade_body
from tests.mocks.whatsapp.helpers import ADMIN, error_of, template, text

pytestmark = pytest.mark.anyio

A, B = "100000000000001", "100000000000002"
SIX_HOURS = 6 * 3_600.0
LATE_2026 = 1_793_000_000.0  # 2026-10-26: v26.0 is released


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(start=LATE_2026)


def two_wabas(**limits: Any) -> MockConfig:
    return MockConfig(
        phone_numbers=[
            PhoneNumberConfig(id=A, waba_id="200000000000001"),
            PhoneNumberConfig(id=B, waba_id="200000000000002"),
        ],
        limits=LimitsConfig(throughput_per_second=100_000, pair_burst=45, **limits),
    )


async def _client(config: MockConfig, clock: FakeClock) -> tuple[Any, httpx.AsyncClient]:
    app = create_app(config, clock=clock, plugins=[])
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://mock.test")
    client.headers["Authorization"] = "Bearer mock-access-token"
    return app, client


async def _reach(client: httpx.AsyncClient, number: str, users: range) -> list[int]:
    codes = []
    for user in users:
        response = await client.post(f"/v26.0/{number}/messages", json=template(to=f"4917{user:08d}"))
        codes.append(response.status_code if response.status_code != 200 else 200)
        if response.status_code != 200:
            codes[-1] = error_of(response)["code"]
    return codes


@pytest.mark.parametrize(("scope", "last"), [("portfolio", 131048), ("waba", 200)])
async def test_the_limit_is_shared_by_the_portfolios_numbers(scope: str, last: int) -> None:
    app, client = await _client(two_wabas(reach_scope=scope), FakeClock(start=LATE_2026))
    async with app.router.lifespan_context(app), client:
        assert set(await _reach(client, A, range(125))) == {200}
        assert set(await _reach(client, B, range(125, 250))) == {200}
        assert await _reach(client, B, range(250, 251)) == [last]
        limits = (await client.get("/_mock/limits", headers=ADMIN)).json()
        if scope == "portfolio":
            assert limits["reach"] == {"default": 250} and limits["tiers"] == {"default": "250"}


def test_half_the_limit_within_7_days_scales_up_at_the_next_6_hour_evaluation() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    limiters = Limiters(LimitsConfig(), on_event=lambda action, detail: events.append((action, detail)))
    for user in range(125):
        limiters.check_reach("p1", f"u{user}", 1_000.0)
    limiters.check_reach("p1", "u0", 1_000.0 + SIX_HOURS - 1)
    assert limiters.tier_of("p1") == "250"
    limiters.check_reach("p1", "u0", 1_000.0 + SIX_HOURS)  # evaluated: 125 >= 250 / 2
    assert limiters.tier_of("p1") == "2K"
    assert events == [("messaging_limit_upgraded", {"portfolio": "p1", "old": "250", "new": "2K"})]


def test_less_than_half_or_auto_scale_off_keeps_the_tier() -> None:
    quiet = Limiters(LimitsConfig())
    fixed = Limiters(LimitsConfig(auto_scale=False))
    for limiters, users in ((quiet, 124), (fixed, 200)):
        for user in range(users):
            limiters.check_reach("p1", f"u{user}", 0.0)
        limiters.check_reach("p1", "u0", 2 * SIX_HOURS)
        assert limiters.tier_of("p1") == "250"


async def test_the_throughput_upgrade_answers_131057_then_runs_at_1000(fake_clock: FakeClock) -> None:
    config = MockConfig(limits=LimitsConfig(enforce_customer_window=False))
    app, client = await _client(config, fake_clock)
    heard: list[tuple[str, float]] = []
    app.state.mock.on_throughput_upgrade.append(lambda number, seconds: heard.append((number, seconds)))
    async with app.router.lifespan_context(app), client:
        assert (await client.get(f"/v26.0/{A}")).json()["throughput"] == {"level": "STANDARD"}
        started = (await client.post(f"/_mock/numbers/{A}/throughput_upgrade", headers=ADMIN)).json()
        assert started["started"] and started["upgrading"] and started["duration_s"] == 60
        assert heard == [(A, 60.0)]
        during = await client.post(f"/v26.0/{A}/messages", json=text())
        assert during.status_code == 500 and error_of(during)["code"] == 131057
        fake_clock.advance(60)
        codes = [
            (await client.post(f"/v26.0/{A}/messages", json=text(to=f"49170{i:07d}"))).status_code for i in range(200)
        ]
        assert codes == [200] * 200  # more than 80 in the same instant: the bucket is 1,000
        assert (await client.get(f"/v26.0/{A}")).json()["throughput"] == {"level": "HIGH"}
        events = (await client.get("/_mock/events", headers=ADMIN)).json()["events"]
        assert [e["action"] for e in events if e["action"].startswith("throughput")] == ["throughput_upgrade_started"]


async def test_coexistence_numbers_stay_at_20_per_second(fake_clock: FakeClock) -> None:
    config = MockConfig(
        phone_numbers=[PhoneNumberConfig(id=A, coexistence=True)],
        limits=LimitsConfig(enforce_customer_window=False),
    )
    app, client = await _client(config, fake_clock)
    async with app.router.lifespan_context(app), client:
        codes = [
            (await client.post(f"/v26.0/{A}/messages", json=text(to=f"49170{i:07d}"))).status_code for i in range(21)
        ]
        assert codes == [200] * 20 + [400]
        refused = (await client.post(f"/_mock/numbers/{A}/throughput_upgrade", headers=ADMIN)).json()
        assert refused["started"] is False and refused["level"] == "STANDARD"


async def test_reaching_unlimited_starts_the_portfolios_throughput_upgrades(fake_clock: FakeClock) -> None:
    app, client = await _client(two_wabas(tier="100K", scale_share=0.0001), fake_clock)
    async with app.router.lifespan_context(app), client:
        assert set(await _reach(client, A, range(20))) == {200}
        fake_clock.advance(SIX_HOURS)
        assert await _reach(client, A, range(20, 21)) == [200]
        events = (await client.get("/_mock/events", headers=ADMIN)).json()["events"]
        upgraded = [e for e in events if e["action"] == "messaging_limit_upgraded"]
        assert upgraded[0]["new"] == "unlimited"
        started = sorted(e["phone_number_id"] for e in events if e["action"] == "throughput_upgrade_started")
        assert started == [A, B]
        busy = await client.post(f"/v26.0/{B}/messages", json=template(to="491799999999"))
        assert error_of(busy)["code"] == 131057


async def test_with_auto_throughput_upgrade_off_reaching_unlimited_upgrades_nothing(fake_clock: FakeClock) -> None:
    app, client = await _client(two_wabas(tier="100K", scale_share=0.0001, auto_throughput_upgrade=False), fake_clock)
    async with app.router.lifespan_context(app), client:
        assert set(await _reach(client, A, range(20))) == {200}
        fake_clock.advance(SIX_HOURS)
        assert await _reach(client, B, range(20, 21)) == [200]  # no 131057: no upgrade started
        events = (await client.get("/_mock/events", headers=ADMIN)).json()["events"]
        assert [e["new"] for e in events if e["action"] == "messaging_limit_upgraded"] == ["unlimited"]
        assert not [e for e in events if e["action"] == "throughput_upgrade_started"]


def test_the_upgrade_webhook_is_a_phone_number_quality_update_change() -> None:
    update = Update(
        "account", "x", "200000000000001", A, "15550000001", Contact("", ""), throughput_upgrade_body("15550000001")
    )
    [entry] = batch_payload([update])["entry"]
    assert entry["id"] == "200000000000001"
    assert entry["changes"] == [
        {
            "field": "phone_number_quality_update",
            "value": {
                "display_phone_number": "15550000001",
                "event": "THROUGHPUT_UPGRADE",
                "max_daily_conversations_per_business": "TIER_UNLIMITED",
            },
        }
    ]


async def test_the_webhook_engine_schedules_it_for_when_the_upgrade_is_done(fake_clock: FakeClock) -> None:
    app = create_app(MockConfig(), clock=fake_clock)
    async with app.router.lifespan_context(app):
        engine = app.state.mock.extensions["webhooks"]
        submitted: list[tuple[Update, float]] = []
        engine.subscriptions.targets = lambda number, waba: ["sub"]
        engine.dispatcher.submit = lambda update, sub, delay_s=0.0: submitted.append((update, delay_s))
        assert app.state.mock.start_throughput_upgrade(A)
        [(update, delay)] = submitted
        assert update.kind == "account" and update.body["value"]["event"] == "THROUGHPUT_UPGRADE" and delay == 60
