"""Schemathesis against the served OpenAPI document: no 5xx, every error in Graph's envelope (issue 10).

The app runs with the webhooks plug-in, so the fuzz reaches /_mock/subscriptions*, /_mock/customers/messages and
/_mock/webhooks/* as well as the Graph routes and the core control plane. Its webhook POSTs and hub.challenge GETs
go to in-process recorders, never to a socket, and every URL they were asked to reach must be loopback (the
subscription validation refuses any other host). Batches are bounded by ``customer_batch_max`` (in the document
too). The state is reset through the control plane after each case (faults, limits, ledger, subscriptions), so a
fuzzed fault or limit change cannot turn later cases into intended 5xx answers or long injected sleeps.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi

from ground.net import is_loopback
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import MockConfig
from mocks.whatsapp.state import MockState
from mocks.whatsapp.webhooks import WebhooksPlugin
from mocks.whatsapp.webhooks.config import WebhookConfig
from mocks.whatsapp.webhooks.engine import WebhookEngine
from mocks.whatsapp.webhooks.transport import PostResult

pytestmark = pytest.mark.slow

GRAPH = {"Authorization": "Bearer mock-access-token"}
ADMIN = {"Authorization": "Bearer mock-admin-token"}
REACHED: list[str] = []  # every URL the engine was asked to POST to or to verify


class _RecordingTransport:
    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> PostResult:
        REACHED.append(url)
        return PostResult(200, "ok")

    async def aclose(self) -> None:
        return None


def _handshake(request: httpx.Request) -> httpx.Response:
    REACHED.append(str(request.url))
    return httpx.Response(200, text=request.url.params.get("hub.challenge", ""))


class _InProcessWebhooks(WebhooksPlugin):
    def build_engine(self, state: MockState) -> WebhookEngine:
        return WebhookEngine(
            state, self.settings, transport=_RecordingTransport(), handshake_transport=httpx.MockTransport(_handshake)
        )


WEBHOOKS = WebhookConfig.model_validate({"customer_batch_max": 20, "workers": 2})
APP = create_app(MockConfig(), plugins=[_InProcessWebhooks(WEBHOOKS)])
schema = schemathesis.openapi.from_asgi("/_mock/openapi.json", APP)


def _headers(case: Any) -> dict[str, str]:
    headers = dict(case.headers or {})
    if "authorization" not in {name.lower() for name in headers}:
        headers.update(ADMIN if case.path.startswith("/_mock/") else GRAPH)
    return headers


def _reset() -> None:
    """Through the control plane, on the app's own event loop (the engine's tasks run there)."""
    state: MockState = APP.state.mock
    base = "http://testserver"
    with asgi.get_client(APP) as client:  # type: ignore[arg-type]  # a Starlette app is an ASGI app
        client.post(f"{base}/_mock/reset", headers=ADMIN)
        client.patch(f"{base}/_mock/limits", json=state.config.limits.model_dump(), headers=ADMIN)
        for sub in client.get(f"{base}/_mock/subscriptions", headers=ADMIN).json()["subscriptions"]:
            client.delete(f"{base}/_mock/subscriptions/{sub['id']}", headers=ADMIN)


def _host(url: str) -> str:
    return httpx.URL(url).host


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_graph_envelopes(case: Any) -> None:
    try:
        response = case.call(headers=_headers(case))
    finally:
        _reset()
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text)
    assert all(is_loopback(_host(url)) for url in REACHED), [url for url in REACHED if not is_loopback(_host(url))]
    if response.status_code >= 400 and not case.path.startswith("/mock-cdn/"):  # the CDN answers plain 404s
        body = response.json()
        error = body["error"]
        assert isinstance(error["code"], int) and error["message"] and error["fbtrace_id"], body
