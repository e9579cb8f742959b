"""Callback URLs that do not parse, have no valid port or are not loopback are refused with 400, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from ground.clock import SystemClock
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import MockConfig
from tests.mocks.whatsapp.webhooks.test_integration import ADMIN

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(MockConfig(), clock=SystemClock())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.test", headers=ADMIN) as c:
            yield c


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://[::1", "not a valid URL"),  # was a 500 (urllib's ValueError escaped)
        ("http://127.0.0.1:99999/hook", "no valid port"),  # httpx would fail later, inside the handshake
        ("ftp://127.0.0.1/hook", "http(s)"),
        ("http://example.com/hook", "loopback"),
        ("http://2130706433/hook", "loopback"),  # 127.0.0.1 as an integer: not what either parser calls loopback
        ("http://127.0.0.1\\@example.com/", "loopback"),  # parsers disagree on the host: refused by both checks
    ],
)
async def test_bad_or_far_callbacks_are_refused(client: httpx.AsyncClient, url: str, words: str) -> None:
    response = await client.post("/_mock/subscriptions", json={"callback_url": url, "skip_verification": True})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    detail = orjson.dumps(error).decode()
    assert error["code"] == 100 and "callback_url" in detail and words in detail, detail
    assert (await client.get("/_mock/subscriptions")).json()["subscriptions"] == []


async def test_the_openapi_document_lists_the_webhook_routes(client: httpx.AsyncClient) -> None:
    document = orjson.loads((await client.get("/_mock/openapi.json")).content)
    paths = set(document["paths"])
    assert {
        "/_mock/subscriptions",
        "/_mock/subscriptions/{sub_id}",
        "/_mock/subscriptions/{sub_id}/verify",
        "/_mock/customers/messages",
        "/_mock/webhooks/attempts",
        "/_mock/webhooks/stats",
        "/_mock/shards",
        "/mock-cdn/{media_id}/{expires}/{signature}",
    } <= paths
    refs = orjson.dumps(document).decode()
    for name in ("MediaIn", "ReplyIn", "LocationIn"):  # nested bodies resolve from the document's root
        assert f"#/components/schemas/{name}" in refs and name in document["components"]["schemas"]
    generate = document["paths"]["/_mock/customers/messages"]["post"]["requestBody"]["content"]["application/json"]
    assert generate["schema"]["oneOf"][2]["properties"]["generate"]["properties"]["count"]["maximum"] == 100_000
