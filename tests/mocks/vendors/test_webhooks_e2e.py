"""Customer → business through the real mock: signed webhook, fast ack, keyword reply quoting the message."""

from __future__ import annotations

import httpx
import pytest

from tests.mocks.vendors.conftest import wait_until
from tests.mocks.vendors.e2e import ledger

pytestmark = pytest.mark.slow


def test_keyword_reply_reaches_the_ledger_linked_to_the_customer_message(reference_vendor, mock_server):
    vendor = reference_vendor("steady")
    admin = mock_server.admin_headers
    subscribed = httpx.post(
        f"{mock_server.base_url}/_mock/subscriptions",
        json={"callback_url": f"{vendor.base_url}/webhooks/whatsapp", "verify_token": "reference-verify-token"},
        headers=admin,
    )
    assert subscribed.status_code == 201, subscribed.text
    sent = httpx.post(
        f"{mock_server.base_url}/_mock/customers/messages",
        json={"messages": [{"from": "4917011112222", "text": "Hi, do you have a discount code?"}]},
        headers=admin,
    )
    assert sent.status_code == 202, sent.text

    def reply():
        rows = [
            row for row in ledger(mock_server) if row.get("direction") == "outbound" and row.get("context_message_id")
        ]
        return rows[0] if rows else None

    row = wait_until(reply, 30, "the auto-reply in the ledger")
    assert row["recipient"] == "4917011112222"
    assert row["context_message_id"] == sent.json()["ids"][0]  # the reply quotes the customer's wamid
    inbound = httpx.get(
        f"{vendor.base_url}/api/conversations",
        params={"q": "discount"},
        headers={"Authorization": "Bearer reference-api-key"},
    ).json()
    assert inbound["total"] == 1 and inbound["items"][0]["agent"] is not None  # stored and assigned
    attempts = httpx.get(f"{mock_server.base_url}/_mock/webhooks/attempts", headers=admin).text
    assert '"http_status":200' in attempts.replace(" ", "")


def test_hostile_webhooks_against_the_real_process_never_take_it_down(reference_vendor, mock_server):
    vendor = reference_vendor("steady")
    url = f"{vendor.base_url}/webhooks/whatsapp"

    def chunks():  # no Content-Length: the cap must hold while streaming
        for _ in range(64):
            yield b"x" * (64 * 1024)

    with httpx.Client(timeout=30) as client:
        huge = client.post(url, content=chunks(), headers={"X-Hub-Signature-256": "sha256=00"})
        assert huge.status_code == 413
        assert client.post(url, content=b"{}", headers={"X-Hub-Signature-256": "sha256=00"}).status_code == 401
        assert client.post(url, content=b"", headers={}).status_code == 401
        assert client.get(f"{vendor.base_url}/health").status_code == 200
    webhooks = httpx.get(
        f"{vendor.base_url}/_vendor/stats", headers={"Authorization": "Bearer reference-api-key"}
    ).json()["webhooks"]
    assert webhooks["too_large"] == 1 and webhooks["rejected_signature"] == 2
