"""Access tokens on Graph routes and the separate admin token on the control plane."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.applications import Starlette

from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import AuthConfig, MockConfig
from tests.mocks.whatsapp.helpers import SEND, error_of, template

pytestmark = pytest.mark.anyio


async def _post(app: Starlette, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock.test") as client:
        return await client.post(SEND, json=template(), headers=headers)


async def test_bad_token_is_401_code_190(mock_app: Starlette) -> None:
    response = await _post(mock_app, {"Authorization": "Bearer wrong"})
    error = error_of(response)
    assert response.status_code == 401 and error["code"] == 190
    assert "error_subcode" not in error
    assert error["message"] == "Invalid OAuth access token - Cannot parse access token"


async def test_expired_token_is_190_subcode_463(mock_app: Starlette) -> None:
    response = await _post(mock_app, {"Authorization": "Bearer mock-expired-token"})
    error = error_of(response)
    assert response.status_code == 401 and (error["code"], error["error_subcode"]) == (190, 463)


@pytest.mark.parametrize(("code", "status"), [(190, 401), (104, 400)])
async def test_missing_token_answer_is_configurable(code: int, status: int) -> None:
    config = MockConfig(auth=AuthConfig(missing_token_code=code, missing_token_http_status=status))  # type: ignore[arg-type]
    response = await _post(create_app(config, plugins=[]), {})
    assert response.status_code == status and error_of(response)["code"] == code


async def test_token_in_query_string_is_accepted(mock_app: Starlette) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=mock_app), base_url="http://mock.test") as client:
        response = await client.get("/v22.0/100000000000001", params={"access_token": "mock-access-token"})
    assert response.status_code == 200


async def test_access_token_does_not_open_the_control_plane(mock_client: httpx.AsyncClient) -> None:
    response = await mock_client.get("/_mock/ledger")  # the client sends the Graph token, not the admin token
    assert response.status_code == 401 and error_of(response)["code"] == 190
    assert (await mock_client.get("/_mock/health")).json()["status"] == "ok"


def test_secrets_come_from_the_environment() -> None:
    env = {
        "SCRMBENCH_MOCK_ACCESS_TOKEN": "t1, t2",
        "SCRMBENCH_MOCK_ADMIN_TOKEN": "adm",
        "SCRMBENCH_MOCK_APP_SECRET": "sec",
    }
    config = MockConfig().with_environment(env)
    assert config.auth.access_tokens == ["t1", "t2"]
    assert (config.admin_token, config.app_secret) == ("adm", "sec")
    assert MockConfig().with_environment({}) == MockConfig()


def control_plane_calls(app: Starlette) -> list[tuple[str, str]]:
    """Every (method, path) of the app's ``/_mock/*`` routes, plug-ins' included, found from its router; path
    parameters filled with a placeholder. Health and the OpenAPI document are open by design."""
    calls = []
    for route in app.routes:
        path = getattr(route, "path", "")
        if not path.startswith("/_mock/") or path in ("/_mock/health", "/_mock/openapi.json"):
            continue
        for method in sorted(set(getattr(route, "methods", None) or ()) - {"HEAD"}):
            calls.append((method, re.sub(r"\{[^}]+\}", "x1", path)))
    return calls


async def test_every_control_route_needs_the_admin_token(mock_app: Starlette, mock_config: MockConfig) -> None:
    calls = control_plane_calls(mock_app)
    paths = {path for _, path in calls}
    # The router really was walked: core control routes and the webhook plug-in's routes are both there.
    assert {"/_mock/ledger", "/_mock/faults", "/_mock/limits", "/_mock/subscriptions", "/_mock/reset"} <= paths
    assert len(calls) >= 15
    refused = {
        "no token": {},
        "wrong token": {"Authorization": "Bearer not-the-admin-token"},
        "Graph access token": {"Authorization": f"Bearer {mock_config.auth.access_tokens[0]}"},
        "admin token, other scheme": {"Authorization": f"Basic {mock_config.admin_token}"},
    }
    admin = {"Authorization": f"Bearer {mock_config.admin_token}"}
    transport = httpx.ASGITransport(app=mock_app)
    async with mock_app.router.lifespan_context(mock_app):
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as client:
            for method, path in calls:
                for label, headers in refused.items():
                    response = await client.request(method, path, headers=headers, json={})
                    assert response.status_code in (401, 403), f"{method} {path} with {label}: {response.status_code}"
                    error = error_of(response)
                    assert error["code"] == 190 and error["type"] == "OAuthException", (method, path, label, error)
                    assert "fbtrace_id" in error and "admin token" in error["message"], (method, path, label)
                response = await client.request(method, path, headers=admin, json={})
                assert response.status_code not in (401, 403), f"{method} {path} refused the admin token"
                if response.status_code >= 400:  # a bad body or unknown id, in Graph's envelope: not an auth error
                    assert error_of(response)["code"] != 190, (method, path, response.text)
