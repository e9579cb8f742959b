"""Status webhooks as of 2026 (docs/whatsapp-2026.md §5-6): delivered skipped when read at once, BSUIDs on
statuses, 131062 for a BSUID recipient on a template it cannot take, the phone number withheld after 30 days
without a message, and the pricing decided at acceptance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from ground.clock import FakeClock
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import IdentityConfig, MockConfig, PricingConfig, TemplateConfig
from mocks.whatsapp.state import MockState
from mocks.whatsapp.webhooks.config import LadderConfig, WebhookConfig
from mocks.whatsapp.webhooks.engine import WebhookEngine
from mocks.whatsapp.webhooks.inbound import CustomerMessage
from mocks.whatsapp.webhooks.ladder import StatusLadder
from mocks.whatsapp.webhooks.payloads import Contact, batch_payload
from tests.mocks.whatsapp.webhooks.helpers import outbound

pytestmark = pytest.mark.anyio

PNID = "100000000000001"
DAY = 86_400.0
TEMPLATES = [
    TemplateConfig(name="promo", category="marketing"),
    TemplateConfig(name="order_update", category="utility"),
    TemplateConfig(name="otp", category="authentication"),
]


def read_at_once(**settings: Any) -> StatusLadder:
    config = LadderConfig(failed_rate=0.0, read_share=1.0, read_receipts_off_share=0.0, **settings)
    return StatusLadder(config, seed=4)


def test_a_message_read_at_once_gets_no_delivered_and_the_read_status_carries_the_pricing() -> None:
    bodies = [u.body for _, u in read_at_once(skip_delivered_share=1.0).updates(outbound(1, category="marketing"))]
    assert [b["status"] for b in bodies] == ["sent", "read"]
    assert bodies[1]["timestamp"] >= bodies[0]["timestamp"]
    assert bodies[1]["pricing"]["category"] == "marketing" and bodies[1]["pricing"]["billable"] is True
    never = [u.body["status"] for _, u in read_at_once(skip_delivered_share=0.0).updates(outbound(1))]
    assert never == ["sent", "delivered", "read"]


def test_statuses_carry_the_bsuid_and_the_parent_bsuid_unless_switched_off() -> None:
    contact = Contact(wa_id="4915100000001", user_id="DE.1", parent_user_id="DE.ENT.77")
    message = outbound(2, contact=contact)
    body = read_at_once().updates(message)[0][1].body
    assert body["recipient_id"] == "4915100000001"
    assert body["recipient_user_id"] == "DE.1" and body["recipient_parent_user_id"] == "DE.ENT.77"
    plain = read_at_once(recipient_user_id=False).updates(message)[0][1].body
    assert "recipient_user_id" not in plain and "recipient_parent_user_id" not in plain


def test_a_withheld_phone_number_is_left_out_of_statuses_and_contacts() -> None:
    updates = [u for _, u in read_at_once().updates(outbound(3, phone_withheld=True))]
    value = batch_payload(updates)["entry"][0]["changes"][0]["value"]
    assert all("recipient_id" not in s and s["recipient_user_id"] == "DE.1003" for s in value["statuses"])
    assert all("wa_id" not in c and c["user_id"] == "DE.1003" for c in value["contacts"])


@pytest.fixture
def config() -> MockConfig:
    return MockConfig(templates=TEMPLATES)


@pytest.fixture
async def app(config: MockConfig) -> AsyncIterator[Starlette]:
    app = create_app(config, clock=FakeClock())
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def graph(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": "Bearer mock-access-token"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://mock.test", headers=headers
    ) as client:
        yield client


def template(name: str, **address: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        **address,
        "type": "template",
        "template": {"name": name, "language": {"code": "en_US"}},
    }


async def send(graph: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await graph.post(f"/v22.0/{PNID}/messages", json=body)


async def ledger(graph: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    response = await graph.get("/_mock/ledger", headers={"Authorization": "Bearer mock-admin-token"})
    return {row["wamid"]: row for row in map(orjson.loads, response.content.splitlines())}


async def test_an_authentication_template_to_a_bsuid_gets_131062_and_a_marketing_one_goes(
    app: Starlette, graph: httpx.AsyncClient
) -> None:
    phone = "4915112345678"
    assert (await send(graph, template("promo", to=phone))).status_code == 200
    bsuid = app.state.mock.customers.by_wa_id(phone).user_id
    for address in ({"recipient": bsuid}, {"to": bsuid}):  # recipient, or a BSUID in ``to``
        refused = await send(graph, template("otp", **address))
        assert refused.status_code == 400 and refused.json()["error"]["code"] == 131062
        accepted = await send(graph, template("promo", **address))
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["contacts"][0] == {"input": bsuid, "wa_id": phone, "user_id": bsuid}
    assert (await send(graph, template("otp", to=phone))).status_code == 200  # by phone number it goes


@pytest.mark.parametrize(
    "config", [MockConfig(templates=TEMPLATES, identity=IdentityConfig(bsuid_refused_categories=[]))]
)
async def test_131062_can_be_switched_off(app: Starlette, graph: httpx.AsyncClient) -> None:
    phone = "4915112345679"
    await send(graph, template("promo", to=phone))
    bsuid = app.state.mock.customers.by_wa_id(phone).user_id
    assert (await send(graph, template("otp", recipient=bsuid))).status_code == 200


async def test_the_ledger_keeps_the_pricing_decided_at_acceptance(app: Starlette, graph: httpx.AsyncClient) -> None:
    phone = "4915112345670"
    cold = (await send(graph, template("order_update", to=phone))).json()["messages"][0]["id"]
    promo = (await send(graph, template("promo", to=phone))).json()["messages"][0]["id"]
    app.state.mock.customers.note_inbound(PNID, phone, app.state.mock.clock.now())  # the customer writes
    warm = (await send(graph, template("order_update", to=phone))).json()["messages"][0]["id"]
    reply = await send(graph, {"messaging_product": "whatsapp", "to": phone, "type": "text", "text": {"body": "hi"}})
    rows = await ledger(graph)
    free = ("service", False, "free_customer_service")
    got = {
        wamid: (rows[wamid]["category"], rows[wamid]["billable"], rows[wamid]["pricing_type"])
        for wamid in (cold, promo, warm, reply.json()["messages"][0]["id"])
    }
    assert list(got.values()) == [
        ("utility", True, "regular"),
        ("marketing", True, "regular"),
        ("utility", False, "free_customer_service"),  # a utility template inside the window is free
        free,
    ]
    assert all(rows[wamid]["wa_id"] == phone for wamid in got)


@pytest.mark.parametrize("config", [MockConfig(templates=TEMPLATES, pricing=PricingConfig(october_2026=True))])
async def test_the_october_2026_switch_charges_service_and_utility_inside_the_window(
    app: Starlette, graph: httpx.AsyncClient
) -> None:
    phone = "4915112345671"
    app.state.mock.customers.note_inbound(PNID, phone, app.state.mock.clock.now())
    warm = (await send(graph, template("order_update", to=phone))).json()["messages"][0]["id"]
    text = {"messaging_product": "whatsapp", "to": phone, "type": "text", "text": {"body": "hi"}}
    reply = (await send(graph, text)).json()["messages"][0]["id"]
    rows = await ledger(graph)
    assert (rows[warm]["billable"], rows[warm]["pricing_type"]) == (True, "regular")
    assert (rows[reply]["category"], rows[reply]["billable"]) == ("service", True)


def engine_on(clock: FakeClock, **identity: Any) -> WebhookEngine:
    config = MockConfig(identity=IdentityConfig(**identity))
    return WebhookEngine(MockState(config, clock), WebhookConfig())


def writes(engine: WebhookEngine, sender: str, username: str | None = "@jo") -> dict[str, Any]:
    message = CustomerMessage.model_validate({"phone_number_id": PNID, "from": sender, "username": username})
    _, update = engine.compose(message)
    return batch_payload([update])["entry"][0]["changes"][0]["value"]


def test_the_phone_number_is_withheld_after_30_days_without_a_message() -> None:
    clock = FakeClock()
    engine = engine_on(clock)
    first = writes(engine, "4915111111111")
    assert "wa_id" not in first["contacts"][0] and "from" not in first["messages"][0]  # never exchanged before
    assert first["contacts"][0]["user_id"].startswith("DE.")
    clock.advance(10 * DAY)
    again = writes(engine, "4915111111111")
    assert again["contacts"][0]["wa_id"] == "4915111111111" and again["messages"][0]["from"] == "4915111111111"
    clock.advance(31 * DAY)
    assert "wa_id" not in writes(engine, "4915111111111")["contacts"][0]
    # Customers without a username keep their number (withhold_phone_for: usernames).
    assert writes(engine, "4915122222222", username=None)["contacts"][0]["wa_id"] == "4915122222222"


def test_withholding_follows_its_switches_and_parent_bsuids_appear_when_on() -> None:
    never = engine_on(FakeClock(), withhold_phone_after_days=None)
    assert writes(never, "4915133333333")["contacts"][0]["wa_id"] == "4915133333333"
    everyone = engine_on(FakeClock(), withhold_phone_for="all", parent_bsuid=True)
    contact = writes(everyone, "4915144444444", username=None)["contacts"][0]
    assert "wa_id" not in contact and ".ENT." in contact["parent_user_id"]
    assert contact["parent_user_id"].split(".")[0] == contact["user_id"].split(".")[0] == "DE"
