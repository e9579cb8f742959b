"""An agent's reply goes out from the business number the customer wrote to: the real reference vendor in front
of a real mock with two numbers; the customer writes to the second, and the mock's ledger shows the agent's
reply (found by its wamid) sent from that number's phone-number id, not the vendor's default."""

from __future__ import annotations

import httpx
import pytest

from mocks.whatsapp.config import LimitsConfig, MockConfig, PhoneNumberConfig
from tests.fixtures.vendors import VENDOR_API_HEADERS
from tests.mocks.vendors.conftest import wait_until
from tests.mocks.vendors.e2e import ledger

pytestmark = pytest.mark.slow

DEFAULT_ID, SECOND_ID = "100000000000001", "100000000000002"
CUSTOMER = "4917011113333"


@pytest.fixture
def mock_config() -> MockConfig:
    numbers = [
        PhoneNumberConfig(id=DEFAULT_ID, display_phone_number="15550000001"),
        PhoneNumberConfig(id=SECOND_ID, display_phone_number="15550000002"),
    ]
    return MockConfig(limits=LimitsConfig(enabled=False, enforce_customer_window=False), phone_numbers=numbers)


def test_an_agent_reply_goes_out_from_the_number_the_customer_wrote_to(reference_vendor, mock_server):
    vendor = reference_vendor("steady")
    admin = mock_server.admin_headers
    with httpx.Client(base_url=vendor.base_url, headers=VENDOR_API_HEADERS, timeout=10) as api:
        assert api.post("/api/agents/ana/online", json={"cap": 5}).status_code == 200
        subscribed = httpx.post(
            f"{mock_server.base_url}/_mock/subscriptions",
            json={"callback_url": f"{vendor.base_url}/webhooks/whatsapp", "verify_token": "reference-verify-token"},
            headers=admin,
            timeout=10,
        )
        assert subscribed.status_code == 201, subscribed.text
        wrote = httpx.post(
            f"{mock_server.base_url}/_mock/customers/messages",
            json={"from": CUSTOMER, "text": "Where is my parcel?", "phone_number_id": SECOND_ID},
            headers=admin,
            timeout=10,
        )
        assert wrote.status_code == 200 and wrote.json()["status"] == 200, wrote.text

        items = wait_until(lambda: api.get("/api/agents/ana/inbox", params={"since": ""}).json()["items"], 30)
        assert items[0]["wa_id"] == CUSTOMER
        reply = api.post(f"/api/conversations/{items[0]['conversation_id']}/reply", json={"agent": "ana", "text": "Hi"})
        assert reply.status_code == 202, reply.text
        wamid = wait_until(lambda: api.get(f"/api/messages/{reply.json()['id']}").json().get("wamid"), 30, "sent")

    row = wait_until(lambda: next((r for r in ledger(mock_server) if r["wamid"] == wamid), None), 30, "ledger row")
    assert row["recipient"] == CUSTOMER and row["direction"] == "outbound"
    assert row["phone_number_id"] == SECOND_ID
