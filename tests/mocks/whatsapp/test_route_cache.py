"""The app's route cache (CachedRouter) and the send endpoint's remembered token answer as the uncached paths do."""

from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import MockConfig
from tests.mocks.whatsapp.helpers import PNID, SEND, error_of, template

pytestmark = pytest.mark.anyio

TOKEN = {"Authorization": "Bearer mock-access-token"}


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock.test")  # type: ignore[arg-type]


async def test_a_cached_path_still_answers_a_wrong_method_with_graphs_error() -> None:
    app = create_app(MockConfig(), plugins=[])
    async with _client(app) as client:
        for _ in range(2):  # the second send is served from the cache
            assert (await client.post(SEND, json=template(), headers=TOKEN)).status_code == 200
        refused = await client.put(SEND, json=template(), headers=TOKEN)
    assert refused.status_code == 405
    assert error_of(refused)["code"] == 100


async def test_a_route_inserted_first_after_a_path_was_cached_wins() -> None:
    app = create_app(MockConfig(), plugins=[])

    async def claimed(request: Request) -> Response:
        return PlainTextResponse(f"claimed {request.path_params['number']}")

    async with _client(app) as client:
        assert (await client.post(SEND, json=template(), headers=TOKEN)).status_code == 200
        app.router.routes.insert(0, Route("/v22.0/{number}/messages", claimed, methods=["POST"]))
        answer = await client.post(SEND, json=template(), headers=TOKEN)
    assert answer.text == f"claimed {PNID}"


async def test_each_request_gets_its_own_path_params() -> None:
    app = create_app(MockConfig(), plugins=[])
    seen: list[dict[str, object]] = []

    async def spoil(request: Request) -> Response:
        seen.append(dict(request.path_params))
        request.path_params["name"] = "spoilt"  # a handler that changes its params must not change the next one's
        return PlainTextResponse("ok")

    app.router.routes.insert(0, Route("/spoil/{name}", spoil, methods=["GET"]))
    async with _client(app) as client:
        for _ in range(3):
            assert (await client.get("/spoil/fresh")).text == "ok"
    assert seen == [{"name": "fresh"}] * 3


async def test_a_remembered_token_is_refused_once_it_left_the_config() -> None:
    config = MockConfig.model_validate({"auth": {"access_tokens": ["t1", "t2"]}})
    app = create_app(config, plugins=[])
    async with _client(app) as client:
        assert (await client.post(SEND, json=template(), headers={"Authorization": "Bearer t1"})).status_code == 200
        config.auth.access_tokens.remove("t1")
        refused = await client.post(SEND, json=template(), headers={"Authorization": "Bearer t1"})
        assert (await client.post(SEND, json=template(), headers={"Authorization": "Bearer t2"})).status_code == 200
    assert refused.status_code == 401
    assert error_of(refused)["code"] == 190
