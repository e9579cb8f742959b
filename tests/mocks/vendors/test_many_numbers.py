"""The reference vendor with many numbers: a send's "from" picks the phone-number id it goes out from (default:
the vendor's own), each number is paced on its own token bucket, the private key never reaches the Graph API, and
a malformed "from" is refused."""

from __future__ import annotations

from tests.mocks.vendors.conftest import wait_until
from tests.mocks.vendors.fake_graph import FakeGraph
from tests.mocks.vendors.test_webhooks import envelope, inbound, post

A, B = "100000000000002", "100000000000003"


def test_each_send_goes_out_from_the_number_it_names_paced_per_number(in_process_vendor):
    graph = FakeGraph()
    vendor = in_process_vendor(graph=graph)
    vendor.post("/api/messages", {"to": "4915100000001", "text": "one", "from": A})
    vendor.post("/api/messages/template", {"to": "4915100000002", "template": "promo", "from": B})
    vendor.post("/api/messages/media", {"to": "4915100000003", "kind": "image", "link": "https://x.invalid/a.jpg"})
    wait_until(lambda: len(graph.sent) == 3, what="three sends")
    by_to = {item["to"]: item for item in graph.sent}
    assert by_to["4915100000001"]["_pnid"] == A and by_to["4915100000002"]["_pnid"] == B
    assert by_to["4915100000003"]["_pnid"] == vendor.state.settings.phone_number_id
    assert not any(key.startswith("_scrmbench") for item in graph.sent for key in item)
    assert {A, B, vendor.state.settings.phone_number_id} <= set(vendor.state.outbound.limiter.buckets)


def test_a_from_that_is_not_a_phone_number_id_is_refused(in_process_vendor):
    vendor = in_process_vendor(graph=FakeGraph())
    answer = vendor.post("/api/messages", {"to": "4915100000001", "text": "x", "from": "+1 555 CALL"})
    assert answer.status_code == 400 and "from" in answer.text


def test_the_auto_reply_goes_out_from_the_number_the_customer_wrote_to(in_process_vendor):
    vendor = in_process_vendor()
    document = envelope([inbound("wamid.N1", "4915100000009", "Any DISCOUNT today?")])
    document["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = B
    assert post(vendor, document).status_code == 200
    reply = wait_until(lambda: vendor.graph.sent and vendor.graph.sent[0], what="the auto-reply")
    assert reply["context"]["message_id"] == "wamid.N1" and reply["_pnid"] == B
