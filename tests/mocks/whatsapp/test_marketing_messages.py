"""POST /{version}/{phone_number_id}/marketing_messages (docs/whatsapp-2026.md §4), on a late-2026 fake clock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from ground.clock import FakeClock
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import MockConfig, TemplateConfig
from tests.mocks.whatsapp.helpers import PNID, error_of, template, text

pytestmark = pytest.mark.anyio

MM = f"/v26.0/{PNID}/marketing_messages"


@pytest.fixture
def mock_app() -> Starlette:
    templates = [
        TemplateConfig(name="promo", body_params=0, category="marketing"),
        TemplateConfig(name="receipt", body_params=0, category="utility"),
    ]
    return create_app(MockConfig(templates=templates), clock=FakeClock(start=1_793_000_000.0), plugins=[])


def promo(**extra: Any) -> dict[str, Any]:
    return {**template(name="promo"), **extra}


async def test_a_marketing_template_is_accepted_with_success_true(
    mock_client: httpx.AsyncClient, mock_app: Starlette
) -> None:
    body = promo(message_send_ttl_seconds=86_400, message_activity_sharing=True, optimization_spec={"x": 1})
    response = await mock_client.post(MM, json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["success"] is True and answer["messages"][0]["id"].startswith("wamid.")
    assert answer["contacts"][0]["wa_id"] == "4915112345678"
    [entry] = mock_app.state.mock.ledger.entries()
    assert entry.category == "marketing"
    assert entry.extra == {"api": "marketing_messages", "ttl_s": 86_400, "message_activity_sharing": True}


async def test_without_a_ttl_delivery_is_retried_for_30_days(
    mock_client: httpx.AsyncClient, mock_app: Starlette
) -> None:
    assert (await mock_client.post(f"/{PNID}/marketing_messages", json=promo())).status_code == 200
    assert mock_app.state.mock.ledger.entries()[0].extra["ttl_s"] == 30 * 86_400


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (text(), 100, "marketing templates only"),
        (template(name="receipt"), 100, "not utility"),
        (template(name="nope"), 132001, "does not exist"),
        (promo(message_send_ttl_seconds=60), 100, "message_send_ttl_seconds"),
        (promo(message_send_ttl_seconds=31 * 86_400), 100, "message_send_ttl_seconds"),
        (promo(message_send_ttl_seconds=True), 100, "message_send_ttl_seconds"),
        (promo(message_activity_sharing="yes"), 100, "message_activity_sharing"),
        ({**promo(), "status": "read", "message_id": "wamid.x"}, 100, "marketing templates only"),
        (promo(bid_spec={"bid_amount": 1}), 100, "optimization_spec"),
        (promo(optimization_spec="fast"), 100, "optimization_spec"),
        ({**promo(), "template": {"name": "promo"}}, 131008, "template.language"),
        ([1, 2], 100, "JSON object"),
    ],
)
async def test_malformed_marketing_messages_get_the_graph_error_envelope(
    body: Any, code: int, words: str, mock_client: httpx.AsyncClient, mock_app: Starlette
) -> None:
    response = await mock_client.post(MM, json=body)
    assert response.status_code in (400, 404)
    error = error_of(response)
    assert error["code"] == code and words in (error["message"] + error.get("error_data", {}).get("details", ""))
    assert "fbtrace_id" in error and mock_app.state.mock.ledger.entries() == []


async def test_a_body_that_is_not_json_gets_the_graph_error_envelope(
    mock_client: httpx.AsyncClient, mock_app: Starlette
) -> None:
    response = await mock_client.post(MM, content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100 and "JSON" in error["error_data"]["details"] and "fbtrace_id" in error


async def test_bid_spec_can_be_ignored_for_an_older_trial(fake_clock: FakeClock) -> None:
    app = create_app(MockConfig(marketing_bid_spec="ignore"), clock=FakeClock(start=1_793_000_000.0), plugins=[])
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": "Bearer mock-access-token"}
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=headers) as client:
        assert (await client.post(MM, json=promo(bid_spec={"bid_amount": 1}))).status_code == 200
