"""Both webhook transports against a real receiver: statuses, bodies, keep-alive, restarts, timeouts."""

from __future__ import annotations

import asyncio

import pytest

from ground.net import free_port
from mocks.whatsapp.webhooks.signing import signed_headers
from mocks.whatsapp.webhooks.transport import HttpxTransport, RawHttpTransport, WebhookTransport, _read_response
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


async def test_a_cancelled_post_is_cancelled_not_a_timeout(transport: WebhookTransport, webhook_receiver) -> None:
    """The raw transport's watchdog turns only its own cancellations into ``timeout``: a dispatcher stopping
    (cancelling its workers mid-POST) still stops them."""
    webhook_receiver.hold()
    try:
        task = asyncio.create_task(post(transport, webhook_receiver, timeout_s=10.0))
        await asyncio.sleep(0)  # the task runs up to its first wait, inside the POST
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        webhook_receiver.release()
        assert (await post(transport, webhook_receiver)).outcome == "ok"
    finally:
        webhook_receiver.release()
        await transport.aclose()


@pytest.mark.parametrize(
    ("answer", "status", "keep_alive"),
    [
        (b"HTTP/1.1 200 OK\r\ndate: x\r\nserver: uvicorn\r\ncontent-length: 0\r\n\r\n", 200, True),
        (b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom", 500, True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", 200, False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, False),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 200, True),
        (b"HTTP/1.1 204 No Content\r\n\r\n", 204, True),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\ncontent-length: 2\r\n\r\nok", 200, True),  # the last one counts
    ],
)
async def test_responses_are_read_to_their_end(answer: bytes, status: int, keep_alive: bool) -> None:
    """Each framing (the common answer's fast path and the general one) reads exactly one response."""
    reader = asyncio.StreamReader()
    following = b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n"
    reader.feed_data(answer + following)
    assert await _read_response(reader) == (status, keep_alive)
    assert await _read_response(reader) == (201, True)  # the next response starts right where the first ended
