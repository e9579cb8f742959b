"""``webhooks.allowed_callback_hosts`` could never work (a far host also needs a per-run owner's confirmation the
mock never had), so it was removed: setting it is a config error that names the fix, and a far callback URL is
refused with a fix that no longer points at the setting."""

from __future__ import annotations

import httpx
import orjson
import pytest

from ground.clock import SystemClock
from ground.errors import ConfigError
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import MockConfig
from mocks.whatsapp.webhooks.config import WebhookConfig
from tests.mocks.whatsapp.webhooks.test_integration import ADMIN


@pytest.mark.parametrize("hosts", [["receiver.example.com"], []])
def test_setting_allowed_callback_hosts_is_a_config_error_naming_the_fix(hosts: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        create_app(MockConfig(webhooks={"allowed_callback_hosts": hosts}))
    error = caught.value
    assert error.field == "allowed_callback_hosts" and error.value == hosts
    text = str(error)
    assert "was removed" in text and "loopback" in text and "127.0.0.1" in text and "ssh -L" in text


def test_the_setting_is_not_part_of_a_valid_config() -> None:
    assert "allowed_callback_hosts" not in WebhookConfig().model_dump()


@pytest.mark.anyio
async def test_a_far_callback_is_refused_with_a_fix_that_works() -> None:
    app = create_app(MockConfig(), clock=SystemClock())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.test", headers=ADMIN) as client:
            body = {"callback_url": "http://receiver.example.com/hook", "skip_verification": True}
            response = await client.post("/_mock/subscriptions", json=body)
            assert response.status_code == 400, response.text
            detail = orjson.dumps(response.json()["error"]).decode()
            assert "loopback" in detail and "127.0.0.1" in detail and "allowed_callback_hosts" not in detail
            assert (await client.get("/_mock/subscriptions")).json()["subscriptions"] == []
