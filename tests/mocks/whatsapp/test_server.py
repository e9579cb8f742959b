"""The mock as a real server (``scrmbench mock serve`` on a free loopback port), driven by a real client library:
pywa sends text, uploads and fetches media, and raises its own exception class for 130429."""

from __future__ import annotations

import httpx
import pytest
from pywa import WhatsApp
from pywa.errors import RateLimitHit

from ground.correlation import make_token
from mocks.whatsapp.config import LimitsConfig, MockConfig
from tests.fixtures.mock_server import MockServer

pytestmark = pytest.mark.slow

PNID = "100000000000001"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8


@pytest.fixture
def mock_config() -> MockConfig:
    # Free-form text without an inbound message first; a bucket of 5 that refills once in 1000 s, so the sixth
    # send meets 130429 however slow the machine is.
    return MockConfig(
        limits=LimitsConfig(enforce_customer_window=False, throughput_per_second=0.001, throughput_burst=5)
    )


def _pywa(server: MockServer) -> WhatsApp:
    client = WhatsApp(phone_id=PNID, token="mock-access-token", api_version="22.0")
    client.api._session.base_url = f"{server.base_url}/v22.0"  # pywa builds graph.facebook.com; point it here
    return client


def test_pywa_sends_text_and_the_ledger_has_its_token(mock_server: MockServer) -> None:
    wa = _pywa(mock_server)
    token = make_token("pywa01", 1, 7)
    sent = wa.send_message(to="4915112345678", text=f"hello {token}")
    assert sent.id.startswith("wamid.")
    ledger = httpx.get(f"{mock_server.base_url}/_mock/ledger", headers=mock_server.admin_headers).text
    assert sent.id in ledger and token in ledger


def test_pywa_uploads_and_fetches_media(mock_server: MockServer) -> None:
    wa = _pywa(mock_server)
    media = wa.upload_media(media=JPEG, mime_type="image/jpeg", filename="photo.jpg")
    assert media.id.isdigit()
    url = wa.get_media_url(media.id)
    assert url.mime_type == "image/jpeg" and url.url.startswith(mock_server.base_url)
    assert wa.get_media_bytes(url.url) == JPEG
    sent = wa.send_image(to="4915112345679", image=media.id, caption="look")
    assert sent.id.startswith("wamid.")
    assert wa.delete_media(media.id)


def test_pywa_gets_its_rate_limit_exception_for_130429(mock_server: MockServer) -> None:
    wa = _pywa(mock_server)
    for i in range(5):
        wa.send_message(to=f"49151{i:07d}", text="fits the bucket")
    with pytest.raises(RateLimitHit) as caught:
        wa.send_message(to="4915100000009", text="one too many")
    assert caught.value.code == 130429


def test_injected_drop_closes_the_socket_and_the_server_stays_up(mock_server: MockServer) -> None:
    base, admin = mock_server.base_url, mock_server.admin_headers
    fault = httpx.post(f"{base}/_mock/faults", json={"kind": "outage", "mode": "drop"}, headers=admin).json()
    body = {"messaging_product": "whatsapp", "to": "4915112345678", "type": "text", "text": {"body": "x"}}
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{base}/v22.0/{PNID}/messages", json=body, headers=mock_server.graph_headers)
    httpx.delete(f"{base}/_mock/faults/{fault['id']}", headers=admin)
    response = httpx.post(f"{base}/v22.0/{PNID}/messages", json=body, headers=mock_server.graph_headers)
    assert response.status_code == 200
    log = mock_server.process.log_path.read_text() if mock_server.process.log_path else ""
    assert "Traceback" not in log  # drops are on purpose: no traceback in the server log
