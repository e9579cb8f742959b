"""The webhook receiver: signatures, size cap, malformed bodies, replays, fast ack, auto-replies, assignment."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocks.vendors.settings import DEFAULT_FALLBACK_REPLY
from mocks.vendors.webhooks import signature_of
from tests.mocks.vendors.conftest import wait_until

SECRET = "mock-app-secret"


def envelope(messages=(), statuses=(), contacts=None) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000001", "phone_number_id": "100000000000001"},
        "messages": list(messages),
        "statuses": list(statuses),
    }
    if contacts is not None:
        value["contacts"] = contacts
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "200000000000001", "changes": [{"field": "messages", "value": value}]}],
    }


def inbound(wamid: str, wa_id: str, text: str) -> dict:
    return {"from": wa_id, "id": wamid, "timestamp": "1750000000", "type": "text", "text": {"body": text}}


def post(vendor, document, *, secret: str = SECRET, raw: bytes | None = None, signature: str | None = None):
    body = raw if raw is not None else json.dumps(document).encode()
    sig = signature if signature is not None else signature_of(body, secret)
    return vendor.client.post(
        "/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": sig, "Content-Type": "application/json"}
    )


def count(vendor, sql: str) -> int:
    return int(vendor.state.store.query(sql)[0][0])


def test_verification_handshake_echoes_the_challenge_only_for_the_right_token(in_process_vendor):
    vendor = in_process_vendor()
    ok = vendor.client.get(
        "/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": "reference-verify-token", "hub.challenge": "12345"},
    )
    assert ok.status_code == 200 and ok.text == "12345"
    bad = vendor.client.get(
        "/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "1"}
    )
    assert bad.status_code == 403


def test_bad_missing_or_foreign_signatures_are_rejected_and_nothing_is_stored(in_process_vendor):
    vendor = in_process_vendor()
    document = envelope([inbound("wamid.A1", "4915100000001", "hello")])
    assert post(vendor, document, secret="another-app-secret").status_code == 401
    assert post(vendor, document, signature="").status_code == 401
    assert post(vendor, document, signature="sha256=" + "0" * 64).status_code == 401
    # A valid signature of different bytes (re-serialised JSON) does not verify either.
    raw = json.dumps(document).encode()
    assert post(vendor, document, raw=raw + b" ", signature=signature_of(raw, SECRET)).status_code == 401
    assert count(vendor, "SELECT COUNT(*) FROM messages") == 0
    assert vendor.state.webhook_counts["rejected_signature"] == 4


def test_bodies_over_3_mb_are_refused_before_they_are_verified(in_process_vendor):
    vendor = in_process_vendor()
    huge = b'{"object":"whatsapp_business_account","entry":[],"pad":"' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = post(vendor, None, raw=huge)
    assert response.status_code == 413
    assert vendor.state.webhook_counts["too_large"] == 1


def test_malformed_json_and_wrong_shapes_are_400_never_500(in_process_vendor):
    vendor = in_process_vendor()
    for raw in [
        b"{not json",
        b"[]",
        b'{"entry": 5}',
        b'{"entry": [{"changes": [{"value": 3}]}]}',
        b"\xff\xfe",
        b"[" * 100_000,
    ]:
        response = post(vendor, None, raw=raw)
        assert response.status_code == 400, raw[:20]
        assert response.json()["error"]["code"] == "malformed"


def test_a_replayed_delivery_is_acknowledged_and_stored_once(in_process_vendor):
    vendor = in_process_vendor()
    document = envelope(
        [inbound("wamid.R1", "4915100000001", "hi"), inbound("wamid.R2", "4915100000002", "hello")],
        contacts=[{"profile": {"name": "Ana"}, "wa_id": "4915100000001"}],
    )
    first = post(vendor, document)
    second = post(vendor, document)
    assert first.status_code == 200 and first.json() == {"received": 2, "new": 2}
    assert second.status_code == 200 and second.json() == {"received": 2, "new": 0}
    assert count(vendor, "SELECT COUNT(*) FROM messages WHERE direction = 'in'") == 2
    assert count(vendor, "SELECT COUNT(*) FROM conversations") == 2
    assert vendor.state.webhook_counts["replayed"] == 2


def test_statuses_are_idempotent_and_never_go_backwards(in_process_vendor):
    vendor = in_process_vendor()
    message_id = vendor.post("/api/messages", {"to": "4915100000001", "text": "hi"}).json()["id"]
    wamid = wait_until(lambda: vendor.message(message_id)["wamid"])

    def status(name: str) -> dict:
        return {"id": wamid, "status": name, "timestamp": "1750000001", "recipient_id": "4915100000001"}

    assert post(vendor, envelope(statuses=[status("delivered")])).json()["new"] == 1
    assert post(vendor, envelope(statuses=[status("delivered")])).json()["new"] == 0
    assert post(vendor, envelope(statuses=[status("read"), status("sent")])).json()["new"] == 2  # reordered
    assert vendor.message(message_id)["status"] == "read"
    assert count(vendor, f"SELECT COUNT(*) FROM statuses WHERE wamid = '{wamid}'") == 3


def test_keyword_auto_reply_quotes_the_inbound_message_through_graph(in_process_vendor):
    vendor = in_process_vendor()
    post(
        vendor,
        envelope(
            [
                inbound("wamid.K1", "4915100000001", "Any DISCOUNT today?"),
                inbound("wamid.K2", "4915100000002", "thanks"),
            ]
        ),
    )
    post(vendor, envelope([inbound("wamid.K3", "4915100000003", "Where is my order?")]))
    wait_until(lambda: len(vendor.graph.sent) == 3)
    by_quoted = {reply["context"]["message_id"]: reply for reply in vendor.graph.sent}
    assert by_quoted["wamid.K1"]["to"] == "4915100000001"
    assert "discount code" in by_quoted["wamid.K1"]["text"]["body"]
    assert "on its way" in by_quoted["wamid.K3"]["text"]["body"]
    # "thanks" matches no keyword: it gets the first-response acknowledgement, not silence.
    assert by_quoted["wamid.K2"]["text"]["body"] == DEFAULT_FALLBACK_REPLY


def agents_of(vendor) -> list[str]:
    rows = vendor.state.store.query("SELECT agent FROM conversations ORDER BY id")
    return [row["agent"] for row in rows]


def test_new_conversations_are_assigned_round_robin(in_process_vendor):
    vendor = in_process_vendor(agents=["a", "b", "c"])
    for index in range(5):
        post(vendor, envelope([inbound(f"wamid.RR{index}", f"49151000000{index:02d}", "hi")]))
    assert wait_until(lambda: None not in (agents := agents_of(vendor)) and len(agents) == 5 and agents) == [
        "a",
        "b",
        "c",
        "a",
        "b",
    ]
    post(vendor, envelope([inbound("wamid.RR9", "4915100000000", "again")]))  # existing conversation: no new pick
    wait_until(lambda: vendor.state.inbox.qsize() == 0)
    assert agents_of(vendor) == ["a", "b", "c", "a", "b"]


def test_least_loaded_assignment_picks_the_agent_with_fewest_conversations(in_process_vendor):
    vendor = in_process_vendor(agents=["a", "b"], assignment="least-loaded")
    post(vendor, envelope([inbound("wamid.L0", "4915100000000", "hi")]))
    first = wait_until(lambda: agents_of(vendor)[0])
    assert first == "a"
    conversation_id = vendor.get("/api/conversations").json()["items"][0]["id"]
    vendor.post(f"/api/conversations/{conversation_id}/assign", {"agent": "b"})  # a human moves it to b
    post(vendor, envelope([inbound("wamid.L1", "4915100000001", "hi")]))
    wait_until(lambda: len(agents_of(vendor)) == 2 and agents_of(vendor)[1])
    assert agents_of(vendor) == ["b", "a"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
message_like = st.fixed_dictionaries(
    {"from": st.text(max_size=12) | st.integers(), "id": st.text(max_size=12) | st.none(), "type": st.text(max_size=8)},
    optional={"text": json_values},
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    document=st.one_of(
        json_values,
        st.builds(lambda m, s: envelope(m, s), st.lists(message_like, max_size=3), st.lists(json_values, max_size=2)),
    ),
    signed=st.booleans(),
)
def test_fuzzed_webhooks_are_rejected_or_ignored_never_a_crash(in_process_vendor, document, signed):
    vendor = fuzz_vendor(in_process_vendor)
    raw = json.dumps(document).encode()
    response = post(vendor, None, raw=raw, signature=None if signed else "sha256=bad")
    assert response.status_code in (200, 400, 401)
    if not signed:
        assert response.status_code == 401
    replay = post(vendor, None, raw=raw, signature=None if signed else "sha256=bad")
    assert replay.status_code == response.status_code
    if response.status_code == 200:
        assert replay.json()["new"] == 0  # never stored twice
    assert vendor.client.get("/health").status_code == 200


_FUZZ: dict[int, object] = {}


def fuzz_vendor(factory):
    """One vendor for all examples of the fuzz test (hypothesis reuses the function-scoped factory)."""
    key = id(factory)
    if key not in _FUZZ:
        _FUZZ.clear()
        _FUZZ[key] = factory()
    return _FUZZ[key]


def test_a_username_customer_without_phone_number_is_answered_by_bsuid(in_process_vendor):
    vendor = in_process_vendor()
    message = {"id": "wamid.U1", "timestamp": "1750000000", "type": "text", "text": {"body": "price please"}}
    contacts = [{"profile": {"name": "Ana", "username": "ana"}, "user_id": "BR.1502576394655843"}]
    assert post(vendor, envelope([message], contacts=contacts)).json() == {"received": 1, "new": 1}
    reply = wait_until(lambda: vendor.graph.sent and vendor.graph.sent[0])
    assert reply["recipient"] == "BR.1502576394655843" and "to" not in reply
    assert reply["context"] == {"message_id": "wamid.U1"}
