"""The facade's status bookkeeping without sockets: statuses that arrive before the Graph answer, duplicates,
statuses of messages sent without a callback, and the mock's webhook signature."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from urllib.parse import parse_qsl

import httpx
import orjson
import pytest

from ground.clock import FakeClock
from mocks.facades.common import DEV_KEYS, FacadeSettings
from mocks.facades.twilio_callbacks import CallbackSettings, StatusCallbacks, callback_refusal, twilio_signature

pytestmark = pytest.mark.anyio
URL = "http://127.0.0.1:9/status"
PARAMS = {"MessageSid": "SM" + "a" * 32, "AccountSid": "AC1", "From": "whatsapp:+1555", "To": "whatsapp:+49151"}


async def _drained(received: list[dict[str, str]], count: int) -> None:
    for _ in range(500):  # bounded: the worker posts through an in-process transport
        if len(received) >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"expected {count} callbacks, got {received}")


@pytest.fixture
async def callbacks(fake_clock: FakeClock):
    received: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        assert request.headers["x-twilio-signature"] == twilio_signature(DEV_KEYS["twilio"], str(request.url), form)
        received.append(form)
        return httpx.Response(204)

    settings = FacadeSettings(dialect="twilio", whatsapp_url="http://mock.test", api_key=DEV_KEYS["twilio"])
    config = CallbackSettings(workers=2, early_ttl_s=30.0)
    service = StatusCallbacks(settings, config, fake_clock, transport=httpx.MockTransport(handler))
    await service.start()
    try:
        yield service, received
    finally:
        await service.stop(httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200))))


async def test_a_status_before_the_graph_answer_waits_and_duplicates_go_once(callbacks) -> None:
    service, received = callbacks
    service.on_status("wamid.A", "sent", None)  # the mock's webhook beat the Graph answer to the facade
    service.track("wamid.A", URL, PARAMS)
    for status in ("delivered", "delivered", "read", "delivered"):  # a duplicate, then one after the terminal
        service.on_status("wamid.A", status, None)
    await _drained(received, 4)
    await asyncio.sleep(0)
    assert [r["MessageStatus"] for r in received] == ["queued", "sent", "delivered", "read"]
    assert service.stats.posted == 4


async def test_statuses_of_untracked_messages_expire(callbacks, fake_clock: FakeClock) -> None:
    service, received = callbacks
    service.on_status("wamid.other", "sent", None)  # a message sent without a callback
    fake_clock.advance(31)
    service.on_status("wamid.B", "failed", 131049)
    assert service.stats.unknown_statuses == 1
    service.track("wamid.other", URL, PARAMS)  # too late: its held status was dropped
    service.track("wamid.B", URL, {**PARAMS, "MessageSid": "SM" + "b" * 32})
    await _drained(received, 3)
    by_sid = {(r["MessageSid"][-1], r["MessageStatus"]): r for r in received}
    assert set(by_sid) == {("a", "queued"), ("b", "queued"), ("b", "failed")}
    assert by_sid[("b", "failed")]["ErrorCode"] == "63049"


async def test_the_mock_webhook_must_carry_the_facade_signature(callbacks) -> None:
    service, received = callbacks
    service.track("wamid.C", URL, PARAMS)
    body = orjson.dumps({"entry": [{"changes": [{"value": {"statuses": [{"id": "wamid.C", "status": "sent"}]}}]}]})
    good = "sha256=" + hmac.new(service.app_secret.encode(), body, hashlib.sha256).hexdigest()
    assert not service.webhook(body, "sha256=" + "0" * 64)
    assert service.webhook(body, good)
    await _drained(received, 2)
    assert [r["MessageStatus"] for r in received] == ["queued", "sent"]


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://127.0.0.1:8080/cb", False),
        ("http://localhost/cb", False),
        ("http://[::1]:9/cb", False),
        ("https://example.com/cb", True),
        ("http://192.0.2.1/cb", True),  # TEST-NET-1: a non-loopback address, only parsed
        ("ftp://127.0.0.1/cb", True),
        ("http://[::1/cb", True),
    ],
)
def test_only_loopback_callback_urls(url: str, refused: bool) -> None:
    assert (callback_refusal(url) is not None) is refused
