"""Throughput, pair rate, reach tier and the 24 h window, on a fake clock (no sleeps)."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from ground.clock import FakeClock
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import LimitsConfig, MockConfig
from mocks.whatsapp.errors import GraphError
from mocks.whatsapp.limiters import Limiters, ReachWindow, TokenBucket
from tests.mocks.whatsapp.helpers import ADMIN, SEND, error_of, open_window, template, text

pytestmark = pytest.mark.anyio


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=2.0, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [True, True, False]
    assert not bucket.take(0.4)
    assert bucket.take(0.5)
    assert bucket.full(10.0)


def test_pair_limit_allows_a_burst_of_45_then_one_per_6_seconds() -> None:
    limiters = Limiters(LimitsConfig())
    for _ in range(45):
        limiters.check_pair("p", "u", 0.0)
    with pytest.raises(GraphError) as caught:
        limiters.check_pair("p", "u", 0.0)
    assert caught.value.code == 131056
    with pytest.raises(GraphError):
        limiters.check_pair("p", "u", 5.9)
    limiters.check_pair("p", "u", 6.01)
    limiters.check_pair("p", "other", 6.01)  # other pairs are independent


def test_reach_window_counts_unique_users_over_a_rolling_day() -> None:
    window = ReachWindow()
    assert all(window.admit(f"u{i}", 0.0, 3) for i in range(3))
    assert window.admit("u1", 10.0, 3)  # a user already reached does not count twice
    assert not window.admit("u9", 10.0, 3)
    assert window.admit("u9", 86_400.0, 3)  # the first users left the window
    assert window.admit("anyone", 0.0, None)


async def test_throughput_limit_gives_130429_then_recovers(fake_clock: FakeClock) -> None:
    config = MockConfig(limits=LimitsConfig(throughput_per_second=20, tier="unlimited"))
    app = create_app(config, clock=fake_clock, plugins=[])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://m",
        headers={"Authorization": "Bearer mock-access-token"},
    ) as client:
        codes = [(await client.post(SEND, json=template(to=f"49151{i:07d}"))).status_code for i in range(25)]
        assert codes == [200] * 20 + [400] * 5
        response = await client.post(SEND, json=template(to="4915100000099"))
        error = error_of(response)
        assert error["code"] == 130429 and error["message"] == "(#130429) Rate limit hit"
        fake_clock.advance(0.5)
        assert [(await client.post(SEND, json=template(to=f"49152{i:07d}"))).status_code for i in range(11)] == [
            200
        ] * 10 + [400]


@pytest.mark.parametrize("status", [400, 429])
async def test_rate_limit_http_status_is_configurable(status: int, fake_clock: FakeClock) -> None:
    config = MockConfig(limits=LimitsConfig(throughput_per_second=1), rate_limit_http_status=status)  # type: ignore[arg-type]
    app = create_app(config, clock=fake_clock, plugins=[])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://m",
        headers={"Authorization": "Bearer mock-access-token"},
    ) as client:
        await client.post(SEND, json=template())
        response = await client.post(SEND, json=template(to="4915100000001"))
    assert response.status_code == status and error_of(response)["code"] == 130429


async def test_pair_limit_through_the_api(mock_client: httpx.AsyncClient, mock_app: Starlette) -> None:
    open_window(mock_app)
    codes = [(await mock_client.post(SEND, json=text())).status_code for _ in range(46)]
    assert codes[:45] == [200] * 45
    assert codes[45] == 400
    last = await mock_client.post(SEND, json=text())
    assert error_of(last)["code"] == 131056


async def test_customer_window_blocks_free_form_but_not_templates(
    mock_client: httpx.AsyncClient, mock_app: Starlette, fake_clock: FakeClock
) -> None:
    response = await mock_client.post(SEND, json=text())
    assert error_of(response)["code"] == 131047
    assert (await mock_client.post(SEND, json=template())).status_code == 200
    open_window(mock_app)
    assert (await mock_client.post(SEND, json=text())).status_code == 200
    fake_clock.advance(86_400.0)
    assert error_of(await mock_client.post(SEND, json=text()))["code"] == 131047


async def test_reach_tier_250_limits_unique_business_initiated_users(
    mock_client: httpx.AsyncClient, mock_app: Starlette, fake_clock: FakeClock
) -> None:
    for i in range(250):
        fake_clock.advance(0.05)  # stay under 80 msg/s
        response = await mock_client.post(SEND, json=template(to=f"4917{i:08d}"))
        assert response.status_code == 200, response.text
    fake_clock.advance(1.0)
    response = await mock_client.post(SEND, json=template(to="4917999999999"))
    assert error_of(response)["code"] == 131048
    open_window(mock_app, "4917999999999")  # inside a customer window it is not business-initiated
    assert (await mock_client.post(SEND, json=template(to="4917999999999"))).status_code == 200
    assert (await mock_client.post(SEND, json=template(to="491700000001"))).status_code == 200  # already reached


async def test_limits_change_live_and_are_logged(mock_client: httpx.AsyncClient) -> None:
    response = await mock_client.patch(
        "/_mock/limits", json={"throughput_per_second": 1000, "tier": "unlimited"}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    assert response.json()["throughput_per_second"] == 1000
    assert (await mock_client.get("/v22.0/100000000000001")).json()["throughput"] == {"level": "HIGH"}
    events = (await mock_client.get("/_mock/events", headers=ADMIN)).json()["events"]
    assert events[-1]["action"] == "limits_changed" and events[-1]["limits"]["tier"] == "unlimited"
    bad = await mock_client.patch("/_mock/limits", json={"throughput_per_second": -1}, headers=ADMIN)
    assert bad.status_code == 400 and "throughput_per_second" in error_of(bad)["error_data"]["details"]


async def test_limiters_off_lets_everything_through(fake_clock: FakeClock) -> None:
    app = create_app(MockConfig(limits=LimitsConfig(enabled=False)), clock=fake_clock, plugins=[])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://m",
        headers={"Authorization": "Bearer mock-access-token"},
    ) as client:
        codes = {(await client.post(SEND, json=text())).status_code for _ in range(100)}
    assert codes == {200}


async def test_waba_management_calls_are_limited_per_hour(fake_clock: FakeClock) -> None:
    app = create_app(MockConfig(limits=LimitsConfig(management_requests_per_hour=3)), clock=fake_clock, plugins=[])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://m",
        headers={"Authorization": "Bearer mock-access-token"},
    ) as client:
        waba = "200000000000001"
        numbers = (await client.get(f"/v22.0/{waba}/phone_numbers")).json()
        assert [item["id"] for item in numbers["data"]] == ["100000000000001"]
        assert (await client.get(f"/v22.0/{waba}")).json()["id"] == waba
        assert (await client.get(f"/{waba}/message_templates")).status_code == 200
        limited = await client.get(f"/v22.0/{waba}/message_templates")
        assert error_of(limited)["code"] == 80007
        assert (await client.get("/v22.0/100000000000001")).status_code == 200  # phone number info is not counted
        fake_clock.advance(3_600 / 3)
        assert (await client.get(f"/v22.0/{waba}/phone_numbers")).status_code == 200


def test_inbound_messages_use_the_numbers_throughput_without_being_refused() -> None:
    limiters = Limiters(LimitsConfig(throughput_per_second=2))
    limiters.count_inbound("p", 0.0)
    limiters.count_inbound("p", 0.0)
    limiters.count_inbound("p", 0.0)  # nothing left: still no error for a customer's message
    with pytest.raises(GraphError) as caught:
        limiters.check_throughput("p", 0.0)
    assert caught.value.code == 130429
