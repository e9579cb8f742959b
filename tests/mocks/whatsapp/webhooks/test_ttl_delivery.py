"""Delivery retried until the time-to-live runs out (docs/whatsapp-2026.md §4), on a fake clock: a marketing message
to a phone that cannot be reached is delivered when the phone is back within its TTL, and fails with the expiry code
(410, "Message expired") when the TTL runs out first; the ledger then says it was never delivered (never charged)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from ground.clock import FakeClock
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import MockConfig, TemplateConfig
from mocks.whatsapp.ledger import LedgerEntry
from mocks.whatsapp.webhooks.config import Delay, LadderConfig, SubscriptionConfig, WebhookConfig
from mocks.whatsapp.webhooks.engine import WebhookEngine
from mocks.whatsapp.webhooks.ladder import TTL_AUTHENTICATION_S, TTL_DEFAULT_S, StatusLadder, ttl_of
from mocks.whatsapp.webhooks.transport import PostResult
from tests.mocks.whatsapp.webhooks.helpers import outbound

pytestmark = pytest.mark.anyio

PNID = "100000000000001"
HOUR, DAY = 3_600.0, 86_400.0
PHONE = "4915112345678"
ADMIN = {"Authorization": "Bearer mock-admin-token"}
QUIET = {"failed_rate": 0.0, "read_share": 0.0, "skip_delivered_share": 0.0}


def ladder(**settings: Any) -> StatusLadder:
    return StatusLadder(LadderConfig(**{**QUIET, **settings}), seed=3)


def test_a_recipient_back_within_the_ttl_gets_the_message_when_back() -> None:
    steps = ladder().plan("wamid.a", PHONE, unreachable_s=2 * HOUR, ttl_s=12 * HOUR)
    assert [s.status for s in steps] == ["sent", "delivered"]
    assert steps[0].offset_s < 2 * HOUR <= steps[1].offset_s


def test_a_recipient_unreachable_past_the_ttl_gets_failed_410_when_it_runs_out() -> None:
    steps = ladder().plan("wamid.b", PHONE, unreachable_s=2 * DAY, ttl_s=12 * HOUR)
    assert [(s.status, s.error_code) for s in steps] == [("sent", None), ("failed", 410)]
    assert steps[1].offset_s == 12 * HOUR
    other_code = ladder(ttl_expired_code=131026).plan("wamid.b", PHONE, unreachable_s=2 * DAY, ttl_s=12 * HOUR)
    assert other_code[1].error_code == 131026


def test_the_expired_status_has_meta_error_shape_and_a_reachable_ladder_is_unchanged() -> None:
    updates = ladder().updates(outbound(1, category="marketing", unreachable_s=DAY, ttl_s=HOUR))
    failed = updates[-1][1].body
    assert failed["status"] == "failed" and "pricing" not in failed
    assert failed["errors"][0]["code"] == 410 and failed["errors"][0]["title"] == "Message expired"
    assert "Time To Live" in failed["errors"][0]["error_data"]["details"]
    plain = ladder(read_share=0.6, skip_delivered_share=0.05)
    assert plain.plan("wamid.c", PHONE) == plain.plan("wamid.c", PHONE, unreachable_s=0.0, ttl_s=HOUR)


def test_the_ttl_is_the_marketing_one_else_the_category_default() -> None:
    def entry(category: str, **extra: Any) -> LedgerEntry:
        return LedgerEntry(0.0, 0.0, "w", "outbound", PNID, PHONE, "template", 1, category=category, extra=extra)

    assert ttl_of(entry("marketing", api="marketing_messages", ttl_s=43_200)) == 43_200
    assert ttl_of(entry("authentication")) == TTL_AUTHENTICATION_S == 600
    assert ttl_of(entry("utility")) == ttl_of(entry("marketing")) == TTL_DEFAULT_S == 30 * DAY


# ---- against the mock: control plane, Marketing Messages API, webhook engine, ledger -------------------------


@dataclass
class Receiver:
    """The vendor's webhook endpoint, in memory: the statuses it got, with the fake clock's time."""

    clock: FakeClock
    statuses: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> PostResult:
        for entry in orjson.loads(body)["entry"]:
            for change in entry["changes"]:
                for status in change["value"].get("statuses", []):
                    self.statuses.append((self.clock.now(), status))
        return PostResult(200, "ok")

    async def aclose(self) -> None:
        return None


@dataclass
class Mock:
    app: Starlette
    clock: FakeClock
    engine: WebhookEngine
    receiver: Receiver
    client: httpx.AsyncClient

    async def run_for(self, seconds: float, step: float = 600.0) -> None:
        """Advance the fake clock ``seconds`` in steps, delivering every webhook that falls due."""
        for _ in range(int(seconds // step)):
            self.clock.advance(step)
            await self.engine.dispatcher.pump()

    def statuses_of(self, wamid: str) -> list[tuple[float, str, int | None]]:
        return [
            (at, s["status"], s["errors"][0]["code"] if "errors" in s else None)
            for at, s in self.receiver.statuses
            if s["id"] == wamid
        ]


def webhook_settings(compression: float = 1.0, **ladder: Any) -> WebhookConfig:
    return WebhookConfig(
        ladder=LadderConfig(**{**QUIET, **ladder}),
        time_compression=compression,
        subscriptions=[SubscriptionConfig(callback_url="http://127.0.0.1:9/hook", skip_verification=True)],
    )


@pytest.fixture
def settings() -> WebhookConfig:
    return webhook_settings()


@pytest.fixture
async def mock(settings: WebhookConfig) -> AsyncIterator[Mock]:
    clock = FakeClock(start=1_793_000_000.0)
    templates = [
        TemplateConfig(name="promo", category="marketing"),
        TemplateConfig(name="otp", category="authentication"),
    ]
    config = MockConfig(templates=templates)
    app = create_app(config, clock=clock, plugins=[])
    state = app.state.mock
    receiver = Receiver(clock)
    engine = WebhookEngine(state, settings, transport=receiver)
    engine.subscriptions.add(**settings.subscriptions[0].model_dump())  # the dispatcher is pumped by hand
    state.on_accepted.append(engine.on_accepted)
    headers = {"Authorization": "Bearer mock-access-token"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.test", headers=headers) as client:
        yield Mock(app, clock, engine, receiver, client)


async def marketing(mock: Mock, ttl_s: int) -> str:
    body = {
        "messaging_product": "whatsapp",
        "to": PHONE,
        "type": "template",
        "template": {"name": "promo", "language": {"code": "en_US"}},
        "message_send_ttl_seconds": ttl_s,
    }
    response = await mock.client.post(f"/v26.0/{PNID}/marketing_messages", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["messages"][0]["id"])


async def unreachable_for(mock: Mock, seconds: float, key: str = PHONE) -> httpx.Response:
    return await mock.client.post(f"/_mock/customers/{key}/unreachable", json={"for_s": seconds}, headers=ADMIN)


async def test_the_mock_retries_until_the_ttl_runs_out_then_reports_410(mock: Mock) -> None:
    assert (await unreachable_for(mock, 2 * DAY)).status_code == 200
    start = mock.clock.now()
    wamid = await marketing(mock, ttl_s=12 * 3_600)
    await mock.run_for(11 * HOUR)
    assert [status for _, status, _ in mock.statuses_of(wamid)] == ["sent"]  # still being retried
    await mock.run_for(2 * HOUR)
    [sent, failed] = mock.statuses_of(wamid)
    assert sent[1:] == ("sent", None) and failed[1:] == ("failed", 410)
    assert 12 * HOUR <= failed[0] - start <= 12 * HOUR + 600
    [entry] = mock.app.state.mock.ledger.entries()
    assert entry.async_error_code == 410  # never delivered: the cost analysis does not charge it


async def test_a_phone_back_before_the_ttl_gets_the_marketing_message_then(mock: Mock) -> None:
    await unreachable_for(mock, 5 * HOUR)
    start = mock.clock.now()
    wamid = await marketing(mock, ttl_s=12 * 3_600)
    await mock.run_for(4 * HOUR)
    assert [status for _, status, _ in mock.statuses_of(wamid)] == ["sent"]
    await mock.run_for(2 * HOUR)
    [sent, delivered] = mock.statuses_of(wamid)
    assert sent[1:] == ("sent", None) and delivered[1:] == ("delivered", None)
    assert delivered[0] - start >= 5 * HOUR
    assert mock.app.state.mock.ledger.entries()[0].async_error_code is None


async def test_a_reachable_phone_is_delivered_at_once_and_reachable_again_clears_it(mock: Mock) -> None:
    await marketing(mock, ttl_s=12 * 3_600)  # the mock meets the customer
    await unreachable_for(mock, 2 * DAY)
    shown = (await mock.client.get(f"/_mock/customers/{PHONE}", headers=ADMIN)).json()
    assert shown["unreachable_until"] == mock.clock.now() + 2 * DAY
    assert (await unreachable_for(mock, 0)).json()["unreachable_until"] is None
    wamid = await marketing(mock, ttl_s=12 * 3_600)
    await mock.run_for(1_200, step=60)
    assert [status for _, status, _ in mock.statuses_of(wamid)] == ["sent", "delivered"]
    assert (await mock.client.get(f"/_mock/customers/{PHONE}", headers=ADMIN)).json()["unreachable_until"] is None


async def test_a_cloud_api_authentication_template_expires_after_meta_default_10_minutes(mock: Mock) -> None:
    await unreachable_for(mock, HOUR)
    start = mock.clock.now()
    body = {"messaging_product": "whatsapp", "to": PHONE, "type": "template"}
    body["template"] = {"name": "otp", "language": {"code": "en_US"}}
    response = await mock.client.post(f"/v26.0/{PNID}/messages", json=body)
    wamid = response.json()["messages"][0]["id"]
    await mock.run_for(900, step=60)
    [sent, failed] = mock.statuses_of(wamid)
    assert sent[1:] == ("sent", None) and failed[1:] == ("failed", 410)
    assert 600 <= failed[0] - start <= 660


@pytest.mark.parametrize("settings", [webhook_settings(compression=1_440.0)])
async def test_the_ttl_runs_on_the_engine_time_compression(mock: Mock) -> None:
    await unreachable_for(mock, 2 * HOUR)  # the control plane speaks mock-clock seconds
    start = mock.clock.now()
    wamid = await marketing(mock, ttl_s=12 * 3_600)  # 12 h of WhatsApp time: 30 s of mock time
    await mock.run_for(60, step=5)
    [sent, failed] = mock.statuses_of(wamid)
    assert sent[1:] == ("sent", None) and failed[1:] == ("failed", 410)
    assert failed[0] - start <= 35


@pytest.mark.parametrize(
    "settings", [webhook_settings(unreachable_share=1.0, unreachable_for=Delay(distribution="fixed", ms=DAY * 1000))]
)
async def test_a_share_of_unreachable_phones_comes_from_the_config(mock: Mock) -> None:
    wamid = await marketing(mock, ttl_s=12 * 3_600)
    await mock.run_for(13 * HOUR)
    assert [(status, code) for _, status, code in mock.statuses_of(wamid)] == [("sent", None), ("failed", 410)]


@pytest.mark.parametrize("body", [{"for_s": -1}, {"for_s": "a day"}, {}, [1]])
async def test_a_bad_unreachable_request_gets_the_graph_error(mock: Mock, body: Any) -> None:
    response = await mock.client.post(f"/_mock/customers/{PHONE}/unreachable", json=body, headers=ADMIN)
    assert response.status_code == 400 and response.json()["error"]["code"] == 100
    unknown = await unreachable_for(mock, 60, key="nobody")
    assert unknown.status_code in (400, 404) and unknown.json()["error"]["code"] == 100
