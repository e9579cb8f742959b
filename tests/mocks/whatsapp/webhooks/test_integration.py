"""The webhook engine inside the mock app: control plane, customer messages, ladders, reply links."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import orjson
import pyarrow.parquet as pq
import pytest
from starlette.applications import Starlette

from ground.clock import SystemClock
from ground.errors import ConfigError
from ground.records import WEBHOOK_ATTEMPT_SCHEMA
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import MockConfig
from mocks.whatsapp.webhooks import create_plugin
from tests.fixtures.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.anyio

PNID = "100000000000001"
ADMIN = {"Authorization": "Bearer mock-admin-token"}
GRAPH = {"Authorization": "Bearer mock-access-token"}
FAST_LADDER = {
    "sent": {"ms": 5},
    "delivered": {"ms": 5},
    "read": {"ms": 5},
    "read_share": 1.0,
    "read_receipts_off_share": 0.0,
    "failed_rate": 0.0,
    "skip_delivered_share": 0.0,  # three statuses per message, always
}


@pytest.fixture
def webhook_settings() -> dict:
    return {"ladder": FAST_LADDER, "workers": 8}


@pytest.fixture
async def client(webhook_settings: dict) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the real clock (the engine's scheduler sleeps for real; nothing asserts durations)."""
    app: Starlette = create_app(MockConfig(webhooks=webhook_settings), clock=SystemClock())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.test", headers=ADMIN) as c:
            yield c


async def subscribe(client: httpx.AsyncClient, receiver: WebhookReceiver, **extra: object) -> dict:
    body = {"callback_url": receiver.url, "verify_token": receiver.verify_token, **extra}
    response = await client.post("/_mock/subscriptions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def send_text(client: httpx.AsyncClient, to: str, text: str = "hello", **extra: object) -> httpx.Response:
    body = {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": text}, **extra}
    return await client.post(f"/v21.0/{PNID}/messages", json=body, headers=GRAPH)


async def ledger(client: httpx.AsyncClient) -> list[dict]:
    import orjson

    response = await client.get("/_mock/ledger")
    return [orjson.loads(line) for line in response.content.splitlines() if line]


async def test_subscribe_runs_the_handshake_and_lists_without_secrets(
    client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    sub = await subscribe(client, webhook_receiver, app_secret="s3cret")
    assert sub["verified"] is True and webhook_receiver.handshakes == 1
    bad = await client.post("/_mock/subscriptions", json={"callback_url": webhook_receiver.url, "verify_token": "no"})
    assert bad.status_code == 201
    assert bad.json()["verified"] is False and "403" in bad.json()["verification"]["error"]
    listed = (await client.get("/_mock/subscriptions")).text
    assert "s3cret" not in listed and sub["id"] in listed
    assert (await client.delete(f"/_mock/subscriptions/{sub['id']}")).status_code == 200
    assert (await client.delete(f"/_mock/subscriptions/{sub['id']}")).status_code == 400
    refused = await client.post("/_mock/subscriptions", json={"callback_url": "http://example.com/hook"})
    assert refused.status_code == 400 and "callback_url" in refused.text


async def test_customer_message_is_delivered_signed_opens_the_window_and_links_the_reply(
    client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    await subscribe(client, webhook_receiver)
    customer = "4915112345678"
    refused = await send_text(client, customer)
    assert refused.json()["error"]["code"] == 131047  # no customer message yet: window closed

    body = {"phone_number_id": PNID, "from": customer, "type": "text", "text": "discount code? 折扣码"}
    answer = (await client.post("/_mock/customers/messages", json=body)).json()
    assert answer["status"] == 200 and answer["id"].startswith("wamid.") and answer["delivered_at"] > 0
    got = webhook_receiver.received[-1]
    assert got.signature_ok and got.headers["user-agent"] == "facebookexternalua"
    value = got.payload["entry"][0]["changes"][0]["value"]
    assert value["messages"][0]["text"]["body"] == "discount code? 折扣码"
    assert value["contacts"][0]["wa_id"] == customer and value["contacts"][0]["user_id"].startswith("DE.")
    assert value["contacts"][0]["profile"]["name"]  # a Faker name when none was given

    reply = await send_text(client, customer, "CODE10")
    assert reply.status_code == 200, reply.text
    quoted = await send_text(client, customer, "see above", context={"message_id": answer["id"]})
    unrelated = await send_text(client, customer, "anything else?")
    rows = {row["wamid"]: row for row in await ledger(client)}
    inbound = rows[answer["id"]]
    assert inbound["direction"] == "inbound" and inbound["inbound_delivered_at"] == answer["delivered_at"]
    first = rows[reply.json()["messages"][0]["id"]]
    assert first["reply_to_wamid"] == answer["id"]
    assert first["inbound_delivered_at"] == answer["delivered_at"]
    assert first["arrived_at"] - first["inbound_delivered_at"] >= 0  # reply latency is one subtraction
    assert rows[quoted.json()["messages"][0]["id"]]["reply_to_wamid"] == answer["id"]
    assert rows[unrelated.json()["messages"][0]["id"]]["reply_to_wamid"] is None


async def test_accepted_messages_get_the_status_ladder_with_bsuid_contacts(
    client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    await subscribe(client, webhook_receiver)
    customer = "33612345678"
    await client.post("/_mock/customers/messages", json={"from": customer, "text": "Bonjour"})
    sent = await send_text(client, customer, "Bonjour !", biz_opaque_callback_data="track-1")
    wamid = sent.json()["messages"][0]["id"]

    def ladder_done(r: WebhookReceiver) -> bool:
        return len([s for kind, s in r.updates() if kind == "status" and s["id"] == wamid]) >= 3

    assert await webhook_receiver.wait_for_async(ladder_done)
    statuses = [s for kind, s in webhook_receiver.updates() if kind == "status" and s["id"] == wamid]
    assert sorted(s["status"] for s in statuses) == ["delivered", "read", "sent"]
    assert all(s["biz_opaque_callback_data"] == "track-1" for s in statuses)
    assert all(s["recipient_id"] == customer for s in statuses)
    for received in webhook_receiver.received:
        for entry in received.payload["entry"]:
            for change in entry["changes"]:
                assert all(c["user_id"] for c in change["value"]["contacts"])


@pytest.mark.parametrize("webhook_settings", [{"ladder": FAST_LADDER, "workers": 4, "timeout_s": 120}])
async def test_a_stuck_receiver_never_slows_graph_sends(
    client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    await subscribe(client, webhook_receiver)
    webhook_receiver.hold()  # the receiver takes POSTs and never answers until released
    customers = [f"5511999{n:06d}" for n in range(30)]
    try:
        for customer in customers:  # queued inbound messages open the windows and fill the pool
            response = await client.post("/_mock/customers/messages", json={"from": customer, "wait": False})
            assert response.status_code == 202
        assert await webhook_receiver.wait_for_async(lambda r: len(r.received) == 4)

        async def stats() -> dict:
            return (await client.get("/_mock/webhooks/stats")).json()

        assert (await stats())["in_flight"] == 4  # every worker of the pool is stuck at the receiver
        for customer in customers:
            assert (await send_text(client, customer, "Olá!")).status_code == 200
        after = await stats()
        assert after["in_flight"] == 4 and len(webhook_receiver.received) == 4  # still stuck: sends did not wait
        assert after["pending_updates"] >= len(customers)
    finally:
        webhook_receiver.release()
    assert await webhook_receiver.wait_for_async(
        lambda r: sum(1 for kind, _ in r.updates() if kind == "status") >= 3 * len(customers)
    )


async def test_batch_of_generated_customers_is_queued_and_delivered(
    client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    await subscribe(client, webhook_receiver)
    response = await client.post("/_mock/customers/messages", json={"generate": {"count": 300, "intent": 0}})
    assert response.status_code == 202
    ids = response.json()["ids"]
    assert len(set(ids)) == 300 and response.json()["dropped"] == 0
    assert await webhook_receiver.wait_for_async(lambda r: len(r.updates()) >= 300)
    messages = {m["id"]: m for kind, m in webhook_receiver.updates() if kind == "message"}
    assert set(messages) == set(ids)
    assert all(r.signature_ok for r in webhook_receiver.received)
    texts = {m["text"]["body"] for m in messages.values()}
    assert {"Hi, do you have a discount code?", "Hallo, habt ihr einen Rabattcode?", "你好，有优惠码吗？"} <= texts
    rows = [row for row in await ledger(client) if row["direction"] == "inbound"]
    assert len(rows) == 300

    attempts = await client.get("/_mock/webhooks/attempts", params={"format": "parquet"})
    table = pq.read_table(io.BytesIO(attempts.content))
    assert table.schema.equals(WEBHOOK_ATTEMPT_SCHEMA)
    assert set(table.column("outcome").to_pylist()) == {"ok"}
    ndjson = await client.get("/_mock/webhooks/attempts", params={"format": "ndjson", "since": 0})
    assert len(ndjson.content.splitlines()) == table.num_rows


async def test_media_location_and_replies_from_customers(
    client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    await subscribe(client, webhook_receiver)
    customer = "8613812345678"
    bodies = [
        {"from": customer, "type": "image", "media": {"caption": "这个有货吗"}},
        {"from": customer, "type": "button_reply", "reply": {"id": "yes", "title": "Yes"}},
        {"from": customer, "type": "location", "location": {"latitude": 31.2, "longitude": 121.5, "name": "上海"}},
    ]
    for body in bodies:
        answer = await client.post("/_mock/customers/messages", json=body)
        assert answer.json()["status"] == 200, answer.text
    image, button, location = [m for kind, m in webhook_receiver.updates() if kind == "message"]
    assert image["type"] == "image" and image["image"]["caption"] == "这个有货吗"
    media = await client.get(f"/v21.0/{image['image']['id']}", headers=GRAPH)
    assert media.status_code == 200 and media.json()["mime_type"] == "image/jpeg"
    assert button["interactive"] == {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}}
    assert location["location"]["name"] == "上海"
    bad = await client.post("/_mock/customers/messages", json={"from": customer, "type": "location"})
    assert bad.status_code == 400 and "location" in bad.text


async def test_no_subscription_is_a_clear_error(client: httpx.AsyncClient) -> None:
    response = await client.post("/_mock/customers/messages", json={"from": "4915112345678", "text": "hi"})
    assert response.status_code == 409 and "/_mock/subscriptions" in response.text


def test_bad_webhook_config_names_the_field() -> None:
    with pytest.raises(ConfigError) as caught:
        create_plugin(MockConfig(webhooks={"batch_max": 0}))
    assert "batch_max" in str(caught.value)


@pytest.mark.parametrize("webhook_settings", [{"ladder": FAST_LADDER, "workers": 4, "time_compression": 10080.0}])
async def test_receiver_down_then_up_loses_nothing_on_the_compressed_retry_curve(
    client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    import asyncio
    import time

    await subscribe(client, webhook_receiver)
    webhook_receiver.down()
    ids = (await client.post("/_mock/customers/messages", json={"generate": {"count": 20}})).json()["ids"]
    deadline = time.monotonic() + 30
    while (await client.get("/_mock/webhooks/stats")).json()["attempts_failed"] < 60 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)  # wait (bounded) until each message failed a few times against the closed port
    webhook_receiver.up()
    assert await webhook_receiver.wait_for_async(lambda r: {m["id"] for _, m in r.updates()} >= set(ids))
    stats = (await client.get("/_mock/webhooks/stats")).json()
    assert stats["dropped_horizon"] == 0 and stats["attempts_failed"] >= 60
    rows = [orjson.loads(line) for line in (await client.get("/_mock/webhooks/attempts")).content.splitlines()]
    assert {"connect_error", "ok"} <= {row["outcome"] for row in rows}
    assert max(row["attempt"] for row in rows) >= 3


async def test_config_subscriptions_are_verified_at_startup_and_reset_clears_queues(webhook_receiver) -> None:
    import asyncio

    settings = {
        "ladder": {**FAST_LADDER, "sent": {"ms": 60_000}},  # statuses far in the future: they stay queued
        "subscriptions": [{"callback_url": webhook_receiver.url, "verify_token": webhook_receiver.verify_token}],
    }
    app = create_app(MockConfig(webhooks=settings), clock=SystemClock())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.test", headers=ADMIN) as client:
            for _ in range(500):  # the handshake runs in the background at startup; bounded wait
                listed = (await client.get("/_mock/subscriptions")).json()["subscriptions"]
                if listed and listed[0]["verified"]:
                    break
                await asyncio.sleep(0.01)
            assert listed[0]["id"] == "sub_config0" and listed[0]["verified"] is True
            await client.post("/_mock/customers/messages", json={"from": "4915112345678"})
            assert (await send_text(client, "4915112345678")).status_code == 200
            before = (await client.get("/_mock/webhooks/stats")).json()
            assert before["scheduled"] >= 1 and before["posts"] == 1
            assert (await client.post("/_mock/reset")).status_code == 200
            after = (await client.get("/_mock/webhooks/stats")).json()
            assert (after["scheduled"], after["pending_updates"], after["posts"]) == (0, 0, 0)
            assert (await client.get("/_mock/webhooks/attempts")).content == b""
            assert len((await client.get("/_mock/subscriptions")).json()["subscriptions"]) == 1
