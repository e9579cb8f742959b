"""End to end: a real mock process delivers signed webhooks to a real reference vendor process, which replies;
the ledger answers "how long did this customer wait for a reply"."""

from __future__ import annotations

import time

import httpx
import orjson
import pytest

from mocks.whatsapp.config import MockConfig

pytestmark = pytest.mark.slow


@pytest.fixture
def mock_config() -> MockConfig:
    ladder = {"sent": {"ms": 20}, "delivered": {"ms": 20}, "read_share": 0.0, "failed_rate": 0.0}
    return MockConfig(webhooks={"time_compression": 10080.0, "ladder": ladder})


def test_vendor_receives_signed_webhooks_and_its_reply_is_linked(mock_server, reference_vendor) -> None:
    vendor = reference_vendor("steady", whatsapp_url=mock_server.base_url)
    admin = httpx.Client(base_url=mock_server.base_url, headers=mock_server.admin_headers, trust_env=False, timeout=30)
    sub = admin.post(
        "/_mock/subscriptions",
        json={"callback_url": f"{vendor.base_url}/webhooks/whatsapp", "verify_token": "reference-verify-token"},
    ).json()
    assert sub["verified"] is True, sub

    answer = admin.post(
        "/_mock/customers/messages",
        json={"phone_number_id": "100000000000001", "from": "4915112345678", "type": "text", "text": "discount code?"},
    ).json()
    assert answer["status"] == 200 and answer["delivered_at"] is not None  # the vendor verified the signature

    def reply_row() -> dict | None:
        rows = [orjson.loads(line) for line in admin.get("/_mock/ledger").content.splitlines() if line]
        return next((r for r in rows if r["reply_to_wamid"] == answer["id"]), None)

    deadline = time.monotonic() + 60
    row = reply_row()
    while row is None and time.monotonic() < deadline:
        time.sleep(0.1)
        row = reply_row()
    assert row is not None, "the vendor's auto-reply never reached the mock"
    assert row["direction"] == "outbound" and row["recipient"].endswith("4915112345678")
    assert row["inbound_delivered_at"] == answer["delivered_at"]
    assert row["arrived_at"] - row["inbound_delivered_at"] >= 0.0

    # The vendor also gets the reply's status ladder; every attempt is recorded.
    def acknowledged_statuses() -> int:
        lines = admin.get("/_mock/webhooks/attempts").content.splitlines()
        return sum(
            1 for line in lines if orjson.loads(line)["kind"] == "status" and orjson.loads(line)["outcome"] == "ok"
        )

    while acknowledged_statuses() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert acknowledged_statuses() >= 2
