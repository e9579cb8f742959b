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


def test_sharded_mock_routes_customer_messages_and_merges_attempts(tmp_path, webhook_receiver) -> None:
    from mocks.whatsapp.config import PhoneNumberConfig
    from tests.fixtures.mock_server import start_mock_server

    numbers = [PhoneNumberConfig(id="100000000000001"), PhoneNumberConfig(id="100000000000002")]
    ladder = {"sent": {"ms": 10}, "delivered": {"ms": 10}, "read_share": 0.0, "failed_rate": 0.0}
    config = MockConfig(phone_numbers=numbers, webhooks={"ladder": ladder})
    server = start_mock_server(config, tmp_path, workers=2)
    try:
        admin = httpx.Client(base_url=server.base_url, headers=server.admin_headers, trust_env=False, timeout=30)
        sub = admin.post(
            "/_mock/subscriptions",
            json={"callback_url": webhook_receiver.url, "verify_token": webhook_receiver.verify_token},
        ).json()
        assert sub["verified"] is True
        shard1 = server.base_url.rsplit(":", 1)[0] + f":{int(server.base_url.rsplit(':', 1)[1]) + 1}"
        listed = httpx.get(f"{shard1}/_mock/subscriptions", headers=server.admin_headers, trust_env=False).json()
        assert [s["id"] for s in listed["subscriptions"]] == [sub["id"]]  # same id on the other shard

        customer = "351912345678"
        answer = admin.post(
            "/_mock/customers/messages", json={"phone_number_id": "100000000000002", "from": customer, "text": "Olá"}
        ).json()
        assert answer["status"] == 200, answer
        batch = admin.post(
            "/_mock/customers/messages",
            json={"messages": [{"phone_number_id": n.id, "from": f"35191000000{i}"} for i, n in enumerate(numbers)]},
        ).json()
        assert len(batch["ids"]) == 2 and batch["queued"] == 2

        sent = admin.post(
            "/v21.0/100000000000002/messages",
            headers=server.graph_headers,
            json={"messaging_product": "whatsapp", "to": customer, "type": "text", "text": {"body": "Olá!"}},
        )
        assert sent.status_code == 200, sent.text
        wamid = sent.json()["messages"][0]["id"]
        assert webhook_receiver.wait_for(
            lambda r: (
                {s["status"] for k, s in r.updates() if k == "status" and s["id"] == wamid} >= {"sent", "delivered"}
            )
        )
        assert webhook_receiver.wait_for(lambda r: len([k for k, _ in r.updates() if k == "message"]) >= 3)
        rows = [orjson.loads(line) for line in admin.get("/_mock/ledger").content.splitlines() if line]
        assert next(r for r in rows if r["wamid"] == wamid)["reply_to_wamid"] == answer["id"]
        stats = admin.get("/_mock/webhooks/stats").json()
        assert len(stats["shards"]) == 2 and stats["updates_delivered"] >= 5
        attempts = [orjson.loads(line) for line in admin.get("/_mock/webhooks/attempts").content.splitlines()]
        assert len(attempts) >= 5 and {a["kind"] for a in attempts} == {"message", "status"}
    finally:
        server.process.stop()
