"""Each dialect adapter against its facade, forwarding to the in-process mock: the message reaches the ledger
with the correlation token, the outcome carries the vendor's id, and failures come back as outcomes."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.adapters.base import Health, SendMedia, SendTemplate, SendText, UploadMedia
from harness.adapters.executors import AsyncHttpxExecutor
from harness.adapters.registry import create_adapter, load_profile

VENDORS = Path(__file__).resolve().parents[3] / "vendors"
TO = "+4915112345678"
pytestmark = pytest.mark.anyio


def _adapter(profile_file: str, base_url: str = "http://127.0.0.1:9"):
    profile = load_profile(VENDORS / profile_file)
    return profile, create_adapter(profile, environ={})


@pytest.mark.parametrize(
    ("profile_file", "dialect"),
    [("twilio-facade.yaml", "twilio"), ("wati-facade.yaml", "wati"), ("360dialog-facade.yaml", "360dialog")],
)
async def test_text_and_template_reach_the_ledger_with_their_tokens(facade_stack, profile_file, dialect) -> None:
    stack = await facade_stack(dialect)
    _, adapter = _adapter(profile_file)
    executor = AsyncHttpxExecutor("http://127.0.0.1:9", client=stack.client)

    text = await executor.execute(adapter, adapter.build(SendText(TO, "hello", "sb-abc123-1")))
    template = await executor.execute(
        adapter, adapter.build(SendTemplate(TO, "order_update", params=("Ada",), correlation_id="sb-abc123-2"))
    )
    health = await executor.execute(adapter, adapter.build(Health()))

    assert (text.result, template.result, health.result) == ("ok", "ok", "ok"), (text, template, health)
    assert text.vendor_message_id and template.vendor_message_id
    tokens = {row["correlation_id"] for row in await stack.ledger()}
    assert {"sb-abc123-1", "sb-abc123-2"} <= tokens


async def test_twilio_media_by_url_carries_the_token_in_the_caption(facade_stack) -> None:
    stack = await facade_stack("twilio")
    _, adapter = _adapter("twilio-facade.yaml")
    executor = AsyncHttpxExecutor("http://127.0.0.1:9", client=stack.client)
    call = SendMedia(TO, link="https://example.com/a.jpg", caption="your invoice", correlation_id="sb-abc123-3")
    result = await executor.execute(adapter, adapter.build(call))
    assert result.ok and result.vendor_message_id and result.vendor_message_id.startswith("SM")
    rows = await stack.ledger()
    assert [row["type"] for row in rows if row["correlation_id"] == "sb-abc123-3"] == ["image"]


async def test_wati_session_file_is_uploaded_then_sent(facade_stack) -> None:
    stack = await facade_stack("wati")
    _, adapter = _adapter("wati-facade.yaml")
    executor = AsyncHttpxExecutor("http://127.0.0.1:9", client=stack.client)
    call = SendMedia(TO, content=b"\xff\xd8\xff\xe0" + b"0" * 200, caption="menu", correlation_id="sb-abc123-4")
    result = await executor.execute(adapter, adapter.build(call))
    assert result.ok, result
    assert "sb-abc123-4" in {row["correlation_id"] for row in await stack.ledger()}


async def test_360dialog_upload_then_send_by_media_id(facade_stack) -> None:
    stack = await facade_stack("360dialog")
    _, adapter = _adapter("360dialog-facade.yaml")
    executor = AsyncHttpxExecutor("http://127.0.0.1:9", client=stack.client)
    uploaded = await executor.execute(adapter, adapter.build(UploadMedia(b"\xff\xd8\xff\xe0" + b"1" * 500)))
    assert uploaded.ok and uploaded.data["media_id"], uploaded
    sent = await executor.execute(
        adapter, adapter.build(SendMedia(TO, media_id=uploaded.data["media_id"], correlation_id="sb-abc123-5"))
    )
    assert sent.ok, sent
    assert "sb-abc123-5" in {row["correlation_id"] for row in await stack.ledger()}


@pytest.mark.parametrize(
    ("profile_file", "dialect", "kind", "status"),
    [
        ("twilio-facade.yaml", "twilio", "http", 401),
        ("wati-facade.yaml", "wati", "http", 401),
        ("360dialog-facade.yaml", "360dialog", "http", 401),
    ],
)
async def test_a_wrong_key_is_a_failed_outcome_not_an_exception(facade_stack, profile_file, dialect, kind, status):
    stack = await facade_stack(dialect)
    profile = load_profile(VENDORS / profile_file)
    env = {name: "wrong-key-value" for name in ("TWILIO_AUTH_TOKEN", "WATI_API_TOKEN", "D360_API_KEY")}
    adapter = create_adapter(profile, environ={**env, "TWILIO_ACCOUNT_SID": "x"})
    executor = AsyncHttpxExecutor("http://127.0.0.1:9", client=stack.client)
    result = await executor.execute(adapter, adapter.build(SendText(TO, "hello", "sb-abc123-6")))
    assert (result.result, result.error_kind, result.http_status) == ("failed", kind, status)


async def test_wati_business_error_is_200_with_result_false(facade_stack) -> None:
    stack = await facade_stack("wati")
    _, adapter = _adapter("wati-facade.yaml")
    executor = AsyncHttpxExecutor("http://127.0.0.1:9", client=stack.client)
    result = await executor.execute(adapter, adapter.build(SendText("12", "hello", "sb-abc123-7")))
    assert (result.result, result.http_status, result.error_kind) == ("failed", 200, "body")
    assert "Invalid WhatsApp number" in (result.error_text or "")
