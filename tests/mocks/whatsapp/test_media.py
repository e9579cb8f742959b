"""Media lifecycle: upload (multipart), descriptor with a 5-minute byte URL, download, delete, expiry, limits."""

from __future__ import annotations

import base64
import hashlib

import httpx
import pytest
from starlette.applications import Starlette

from ground.clock import FakeClock
from mocks.whatsapp.media import MB, is_animated_webp
from tests.mocks.whatsapp.helpers import PNID, SEND, error_of, open_window

pytestmark = pytest.mark.anyio

UPLOAD = f"/v22.0/{PNID}/media"
JPEG = b"\xff\xd8\xff\xe0" + b"x" * 1000
STATIC_WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 200
ANIMATED_WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8X" + b"\x00\x00\x00\x00\x02" + b"\x00" * 200


async def _upload(client: httpx.AsyncClient, data: bytes, mime: str, **fields: str) -> httpx.Response:
    form = {"messaging_product": "whatsapp", "type": mime, **fields}
    return await client.post(UPLOAD, data=form, files={"file": ("f.bin", data, mime)})


async def test_upload_describe_download_delete(mock_client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    response = await _upload(mock_client, JPEG, "image/jpeg")
    assert response.status_code == 200, response.text
    media_id = response.json()["id"]
    assert media_id.isdigit()
    described = (await mock_client.get(f"/v22.0/{media_id}")).json()
    assert described["mime_type"] == "image/jpeg" and described["file_size"] == len(JPEG)
    assert described["sha256"] == base64.b64encode(hashlib.sha256(JPEG).digest()).decode()
    url = described["url"]
    assert (await mock_client.get(url)).content == JPEG
    no_token = await mock_client.get(url, headers={"Authorization": ""})
    assert no_token.status_code == 401
    fake_clock.advance(301)
    assert (await mock_client.get(url)).status_code == 404  # the byte URL lives 5 minutes
    fresh = (await mock_client.get(f"/{media_id}")).json()["url"]
    assert (await mock_client.get(fresh)).status_code == 200
    assert (await mock_client.delete(f"/v22.0/{media_id}")).json() == {"success": True}
    gone = await mock_client.get(f"/v22.0/{media_id}")
    assert gone.status_code == 400 and (error_of(gone)["code"], error_of(gone)["error_subcode"]) == (100, 33)
    assert (await mock_client.get(fresh)).status_code == 404


async def test_forged_url_is_404(mock_client: httpx.AsyncClient) -> None:
    media_id = (await _upload(mock_client, JPEG, "image/jpeg")).json()["id"]
    url = (await mock_client.get(f"/{media_id}")).json()["url"]
    assert (await mock_client.get(url[:-3] + "AAA")).status_code == 404


async def test_media_expires_after_30_days(mock_client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    media_id = (await _upload(mock_client, JPEG, "image/jpeg")).json()["id"]
    fake_clock.advance(30 * 86_400)
    assert error_of(await mock_client.get(f"/{media_id}"))["error_subcode"] == 33


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (b"x" * (5 * MB + 1), "image/jpeg"),
        (b"x" * 10, "image/gif"),
        (STATIC_WEBP + b"\x00" * (100 * 1024), "image/webp"),
        (b"", "image/png"),
    ],
)
async def test_upload_limits_are_131053(data: bytes, mime: str, mock_client: httpx.AsyncClient) -> None:
    response = await _upload(mock_client, data, mime)
    assert response.status_code == 400 and error_of(response)["code"] == 131053


async def test_animated_sticker_may_be_up_to_500_kb(mock_client: httpx.AsyncClient) -> None:
    assert is_animated_webp(ANIMATED_WEBP) and not is_animated_webp(STATIC_WEBP)
    response = await _upload(mock_client, ANIMATED_WEBP + b"\x00" * (300 * 1024), "image/webp")
    assert response.status_code == 200, response.text


async def test_upload_needs_its_fields(mock_client: httpx.AsyncClient) -> None:
    no_product = await mock_client.post(UPLOAD, data={"type": "image/jpeg"}, files={"file": ("a.jpg", JPEG)})
    assert error_of(no_product)["code"] == 131008
    no_file = await mock_client.post(UPLOAD, data={"messaging_product": "whatsapp", "type": "image/jpeg"}, files={})
    assert error_of(no_file)["code"] in (100, 131008)
    not_multipart = await mock_client.post(UPLOAD, json={"file": "x"})
    assert error_of(not_multipart)["code"] == 100


async def test_send_by_media_id_checks_existence_and_kind(mock_client: httpx.AsyncClient, mock_app: Starlette) -> None:
    open_window(mock_app)
    media_id = (await _upload(mock_client, JPEG, "image/jpeg")).json()["id"]
    ok = {"messaging_product": "whatsapp", "to": "4915112345678", "type": "image", "image": {"id": media_id}}
    assert (await mock_client.post(SEND, json=ok)).status_code == 200
    as_audio = {**ok, "type": "audio", "audio": {"id": media_id}}
    assert error_of(await mock_client.post(SEND, json=as_audio))["code"] == 131053
    unknown = {**ok, "image": {"id": "123456"}}
    response = await mock_client.post(SEND, json=unknown)
    assert response.status_code == 400 and error_of(response)["error_subcode"] == 33
