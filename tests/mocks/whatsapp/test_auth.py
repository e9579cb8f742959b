"""Access tokens on Graph routes and the separate admin token on the control plane."""

from __future__ import annotations

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
