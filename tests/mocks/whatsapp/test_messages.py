"""POST /{version}/{phone_number_id}/messages: every message type, addressing, the ledger row, Graph errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from ground.clock import FakeClock
from ground.correlation import make_token
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import MockConfig, TemplateConfig
from tests.mocks.whatsapp.helpers import PNID, SEND, error_of, open_window, template, text

pytestmark = pytest.mark.anyio

TO = "4915112345678"
TOKEN = make_token("abc123", 3, 42)


def _message(kind: str, node: Any, **extra: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": TO, "type": kind, kind: node, **extra}


VALID_BODIES = {
    "text": _message("text", {"body": f"hi {TOKEN}", "preview_url": False}),
    "image_link": _message("image", {"link": "https://example.com/a.jpg", "caption": f"look {TOKEN}"}),
    "video_link": _message("video", {"link": "https://example.com/a.mp4", "caption": TOKEN}),
    "audio_link": _message("audio", {"link": "https://example.com/a.ogg"}, biz_opaque_callback_data=TOKEN),
    "document_link": _message("document", {"link": "https://example.com/a.pdf", "filename": "a.pdf", "caption": TOKEN}),
    "sticker_link": _message("sticker", {"link": "https://example.com/a.webp"}, biz_opaque_callback_data=TOKEN),
    "buttons": _message(
        "interactive",
        {
            "type": "button",
            "body": {"text": f"pick {TOKEN}"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": f"B{i}"}} for i in range(3)]},
        },
    ),
    "list": _message(
        "interactive",
        {
            "type": "list",
            "body": {"text": f"choose {TOKEN}"},
            "action": {
                "button": "Options",
                "sections": [{"title": "s", "rows": [{"id": f"r{i}", "title": f"Row {i}"} for i in range(10)]}],
            },
        },
    ),
    "location": _message("location", {"latitude": 52.5, "longitude": 13.4, "name": f"shop {TOKEN}"}),
    "contacts": {
        "messaging_product": "whatsapp",
        "to": TO,
        "type": "contacts",
        "contacts": [{"name": {"formatted_name": "Ann"}}],
        "biz_opaque_callback_data": TOKEN,
    },
    "reaction": _message("reaction", {"message_id": "wamid.abc", "emoji": "👍"}, biz_opaque_callback_data=TOKEN),
}


@pytest.mark.parametrize("name", sorted(VALID_BODIES))
async def test_every_message_type_is_accepted_and_recorded_with_its_token(
    name: str, mock_client: httpx.AsyncClient, mock_app: Starlette
) -> None:
    open_window(mock_app)
    body = VALID_BODIES[name]
    response = await mock_client.post(SEND, json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"] == [{"input": TO, "wa_id": TO}]
    wamid = answer["messages"][0]["id"]
    assert wamid.startswith("wamid.") and answer["messages"][0]["message_status"] == "accepted"
    [entry] = mock_app.state.mock.ledger.entries()
    assert (entry.wamid, entry.type, entry.recipient, entry.phone_number_id) == (wamid, body["type"], TO, PNID)
    assert entry.correlation_id == TOKEN
    assert entry.size_bytes > 0 and entry.direction == "outbound"


async def test_template_parameters_carry_the_token_outside_the_window(
    mock_client: httpx.AsyncClient, mock_app: Starlette
) -> None:
    response = await mock_client.post(SEND, json=template(params=("Ann", TOKEN)))
    assert response.status_code == 200, response.text
    assert mock_app.state.mock.ledger.entries()[0].correlation_id == TOKEN


# The fake clock stands in mid-2025: v23.0 is the newest released version then (versions.py; test_versions.py).
@pytest.mark.parametrize("path", [SEND, f"/v23.0/{PNID}/messages", f"/{PNID}/messages", f"/v12.0/{PNID}/messages"])
async def test_a_usable_or_expired_version_prefix_or_none(
    path: str, mock_client: httpx.AsyncClient, mock_app: Starlette
) -> None:
    open_window(mock_app)
    assert (await mock_client.post(path, json=text())).status_code == 200


async def test_bad_version_segment_is_a_graph_error(mock_client: httpx.AsyncClient) -> None:
    response = await mock_client.post(f"/latest/{PNID}/messages", json=text())
    assert response.status_code == 400 and error_of(response)["code"] == 100


async def test_context_and_opaque_data_land_in_the_ledger(mock_client: httpx.AsyncClient, mock_app: Starlette) -> None:
    open_window(mock_app)
    body = text(context={"message_id": "wamid.inbound1"}, biz_opaque_callback_data="campaign-7")
    assert (await mock_client.post(SEND, json=body)).status_code == 200
    [entry] = mock_app.state.mock.ledger.entries()
    assert entry.context_message_id == "wamid.inbound1"
    assert entry.biz_opaque_callback_data == "campaign-7"


async def test_bsuid_recipient_reaches_the_same_customer(mock_client: httpx.AsyncClient, mock_app: Starlette) -> None:
    state = mock_app.state.mock
    customer = state.customers.get_or_create(TO)
    open_window(mock_app)
    body = {"messaging_product": "whatsapp", "recipient": customer.user_id, "type": "text", "text": {"body": "x"}}
    response = await mock_client.post(SEND, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["contacts"] == [{"input": customer.user_id, "wa_id": TO, "user_id": customer.user_id}]
    assert state.ledger.entries()[0].wa_id == TO
    assert customer.user_id.startswith("DE.")


async def test_unknown_bsuid_is_rejected(mock_client: httpx.AsyncClient) -> None:
    body = {"messaging_product": "whatsapp", "recipient": "US.999", "type": "text", "text": {"body": "x"}}
    response = await mock_client.post(SEND, json=body)
    assert error_of(response)["code"] == 131009


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"to": TO, "type": "text", "text": {"body": "x"}}, 100),  # no messaging_product
        ({"messaging_product": "sms", "to": TO, "text": {"body": "x"}}, 100),
        ({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}, 100),  # no recipient
        ({"messaging_product": "whatsapp", "to": TO, "type": "fax", "fax": {}}, 100),
        ({"messaging_product": "whatsapp", "to": "abc", "type": "text", "text": {"body": "x"}}, 100),
        ({"messaging_product": "whatsapp", "to": TO, "type": "text"}, 131008),  # no text node
        ({"messaging_product": "whatsapp", "to": TO, "type": "text", "text": {}}, 131008),
        ({"messaging_product": "whatsapp", "to": TO, "type": "text", "text": {"body": "x" * 4097}}, 100),
        ({"messaging_product": "whatsapp", "to": TO, "type": "text", "text": {"body": 5}}, 131009),
        ({"messaging_product": "whatsapp", "to": TO, "type": "image", "image": {}}, 131008),
        ({"messaging_product": "whatsapp", "to": TO, "type": "image", "image": {"id": "abc"}}, 131009),
        ({"messaging_product": "whatsapp", "to": TO, "type": "location", "location": {"latitude": 9}}, 131008),
        ({"messaging_product": "whatsapp", "to": TO, "type": "template", "template": {"name": "x"}}, 131008),
    ],
)
async def test_invalid_bodies_get_graph_codes(
    body: dict[str, Any], code: int, mock_client: httpx.AsyncClient, mock_app: Starlette
) -> None:
    open_window(mock_app)
    response = await mock_client.post(SEND, json=body)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["code"] == code
    assert error["message"].startswith(f"(#{code}) ")
    assert error["type"] == "OAuthException"
    assert error["error_data"]["messaging_product"] == "whatsapp" and error["error_data"]["details"]
    assert error["fbtrace_id"]
    assert mock_app.state.mock.ledger.entries() == []


async def test_text_of_exactly_4096_characters_passes(mock_client: httpx.AsyncClient, mock_app: Starlette) -> None:
    open_window(mock_app)
    assert (await mock_client.post(SEND, json=text(body="x" * 4096))).status_code == 200


async def test_four_buttons_or_eleven_rows_are_invalid(mock_client: httpx.AsyncClient, mock_app: Starlette) -> None:
    open_window(mock_app)
    buttons = _message(
        "interactive",
        {
            "type": "button",
            "body": {"text": "x"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": "t"}} for i in range(4)]},
        },
    )
    rows = _message(
        "interactive",
        {
            "type": "list",
            "body": {"text": "x"},
            "action": {
                "button": "b",
                "sections": [
                    {"title": "a", "rows": [{"id": f"a{i}", "title": "t"} for i in range(6)]},
                    {"title": "b", "rows": [{"id": f"b{i}", "title": "t"} for i in range(5)]},
                ],
            },
        },
    )
    for body in (buttons, rows):
        response = await mock_client.post(SEND, json=body)
        assert error_of(response)["code"] == 131009


async def test_malformed_json_is_code_100(mock_client: httpx.AsyncClient) -> None:
    response = await mock_client.post(SEND, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and error_of(response)["code"] == 100


async def test_unknown_phone_number_id_is_graphs_unknown_object(mock_client: httpx.AsyncClient) -> None:
    response = await mock_client.post("/v22.0/999/messages", json=text())
    error = error_of(response)
    assert response.status_code == 400
    assert (error["code"], error["error_subcode"]) == (100, 33)
    assert "999" in error["message"]


async def test_mark_as_read_and_typing_indicator(mock_client: httpx.AsyncClient, mock_app: Starlette) -> None:
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.in1"}
    assert (await mock_client.post(SEND, json=read)).json() == {"success": True}
    typing = {**read, "typing_indicator": {"type": "text"}}
    assert (await mock_client.post(SEND, json=typing)).json() == {"success": True}
    bad = {**read, "message_id": "nope"}
    assert error_of(await mock_client.post(SEND, json=bad))["code"] == 131009
    assert mock_app.state.mock.ledger.entries() == []


async def test_recipient_not_on_whatsapp_sync_and_async(mock_app: Starlette, mock_client: httpx.AsyncClient) -> None:
    state = mock_app.state.mock
    state.customers.not_on_whatsapp_share = 1.0
    response = await mock_client.post(SEND, json=template())
    assert error_of(response)["code"] == 133010
    state.config = state.config.model_copy(update={"not_on_whatsapp_mode": "async"})
    response = await mock_client.post(SEND, json=template())
    assert response.status_code == 200
    assert state.ledger.entries()[0].async_error_code == 131026


async def test_on_accepted_listeners_see_each_entry_and_a_failing_one_is_contained(
    mock_app: Starlette, mock_client: httpx.AsyncClient
) -> None:
    seen: list[str] = []

    def broken(entry: object) -> None:
        raise RuntimeError("listener bug")

    mock_app.state.mock.on_accepted.extend([broken, lambda entry: seen.append(entry.wamid)])
    response = await mock_client.post(SEND, json=template())
    assert response.status_code == 200
    assert seen == [response.json()["messages"][0]["id"]]


async def test_phone_number_info(mock_client: httpx.AsyncClient) -> None:
    info = (await mock_client.get(f"/v22.0/{PNID}")).json()
    assert info["id"] == PNID and info["platform_type"] == "CLOUD_API"
    assert info["throughput"] == {"level": "STANDARD"}


async def test_unknown_route_answers_in_graph_envelope(mock_client: httpx.AsyncClient) -> None:
    response = await mock_client.put(f"/v22.0/{PNID}/nothing")
    assert response.status_code in (400, 405)
    assert error_of(response)["code"] == 100


async def test_template_registry_checks_existence_and_parameter_count(fake_clock: FakeClock) -> None:
    config = MockConfig(templates=[TemplateConfig(name="order_update", language="en_US", body_params=2)])
    app = create_app(config, clock=fake_clock, plugins=[])
    headers = {"Authorization": "Bearer mock-access-token"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://m", headers=headers
    ) as client:
        ok = await client.post(SEND, json=template(name="order_update", params=("Ann", TOKEN)))
        assert ok.status_code == 200, ok.text
        unknown = await client.post(SEND, json=template(name="nope", params=("a", "b")))
        assert unknown.status_code == 404 and error_of(unknown)["code"] == 132001
        wrong = await client.post(SEND, json=template(name="order_update", params=("only one",)))
        assert wrong.status_code == 400 and error_of(wrong)["code"] == 132000
        listed = (await client.get("/v22.0/200000000000001/message_templates")).json()
        assert [(t["name"], t["status"]) for t in listed["data"]] == [("order_update", "APPROVED")]
        assert (await client.get("/v22.0/999/message_templates")).status_code == 400
