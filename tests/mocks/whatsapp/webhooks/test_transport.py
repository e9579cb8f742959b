"""Both webhook transports against a real receiver: statuses, bodies, keep-alive, restarts, timeouts."""

from __future__ import annotations

import pytest

from ground.net import free_port
from mocks.whatsapp.webhooks.signing import signed_headers
from mocks.whatsapp.webhooks.transport import HttpxTransport, RawHttpTransport, WebhookTransport
from tests.fixtures.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.anyio

BODY = b'{"object":"whatsapp_business_account","entry":[]}'


@pytest.fixture(params=["raw", "httpx"])
def transport(request: pytest.FixtureRequest) -> WebhookTransport:
    return RawHttpTransport(4) if request.param == "raw" else HttpxTransport(4)


async def post(transport: WebhookTransport, receiver: WebhookReceiver, timeout_s: float = 10.0):
    return await transport.post(receiver.url, BODY, signed_headers(receiver.app_secret, BODY), timeout_s)


async def test_statuses_and_bodies_of_every_framing(transport: WebhookTransport, webhook_receiver) -> None:
    try:
        assert (await post(transport, webhook_receiver)).outcome == "ok"
        webhook_receiver.answer(status=200, body=b"EVENT_RECEIVED")
        assert (await post(transport, webhook_receiver)).status == 200
        webhook_receiver.answer(status=200, body=b"chunked answer body", chunked=True)
        assert (await post(transport, webhook_receiver)).status == 200
        webhook_receiver.answer(status=500, body=b"boom")
        result = await post(transport, webhook_receiver)
        assert (result.status, result.outcome) == (500, "http_error")
        webhook_receiver.answer(status=204)
        assert (await post(transport, webhook_receiver)).outcome == "http_error"  # only 200 counts
        webhook_receiver.answer(status=200)
        assert (await post(transport, webhook_receiver)).outcome == "ok"  # the connection survived all that
    finally:
        await transport.aclose()
    received = webhook_receiver.received
    assert len(received) == 6 and all(r.signature_ok and r.body == BODY for r in received)
    assert received[0].headers["user-agent"] == "facebookexternalua"


async def test_receiver_restart_stale_connections_and_refusal(transport: WebhookTransport, webhook_receiver) -> None:
    try:
        assert (await post(transport, webhook_receiver)).outcome == "ok"  # leaves a keep-alive connection
        webhook_receiver.down()
        refused = await post(transport, webhook_receiver)
        assert (refused.status, refused.outcome) == (0, "connect_error")
        webhook_receiver.up()
        assert (await post(transport, webhook_receiver)).outcome == "ok"
        closed = await transport.post(f"http://127.0.0.1:{free_port()}/webhook", BODY, {}, 5.0)
        assert closed.outcome == "connect_error"
    finally:
        await transport.aclose()


async def test_a_receiver_slower_than_the_timeout_is_a_timeout(transport: WebhookTransport, webhook_receiver) -> None:
    webhook_receiver.hold()
    try:
        result = await post(transport, webhook_receiver, timeout_s=0.2)
        assert (result.status, result.outcome) == (0, "timeout")
    finally:
        webhook_receiver.release()
        await transport.aclose()
