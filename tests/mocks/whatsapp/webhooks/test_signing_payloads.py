from __future__ import annotations

import hashlib
import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pywa import WhatsApp, utils
from starlette.applications import Starlette

from mocks.whatsapp.webhooks.config import LadderConfig
from mocks.whatsapp.webhooks.ladder import StatusLadder
from mocks.whatsapp.webhooks.payloads import (
    Contact,
    Update,
    batch_payload,
    grouped_payload,
    signed_webhook,
    single_payload,
    webhook_body,
)
from mocks.whatsapp.webhooks.signing import SIGNATURE_HEADER, USER_AGENT, serialize, signature, signed_headers, verify
from tests.mocks.whatsapp.webhooks.helpers import PNID, WABA, inbound, outbound


def hmac_sha256_by_hand(key: bytes, message: bytes) -> str:
    """RFC 2104 written out, so the test does not share the hmac module with the code under test."""
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key) + message).digest()
    return hashlib.sha256(bytes(b ^ 0x5C for b in key) + inner).hexdigest()


def test_signature_matches_an_independent_hmac_over_the_exact_bytes() -> None:
    body = serialize(batch_payload([inbound(1)]))
    assert signature("mock-app-secret", body) == "sha256=" + hmac_sha256_by_hand(b"mock-app-secret", body)
    assert verify("mock-app-secret", body, signature("mock-app-secret", body))
    assert not verify("other-secret", body, signature("mock-app-secret", body))
    assert not verify("mock-app-secret", body + b" ", signature("mock-app-secret", body))


def test_pywa_accepts_the_signature() -> None:
    body = serialize(batch_payload([inbound(2)]))
    assert utils.webhook_updates_validator("mock-app-secret", body, signature("mock-app-secret", body))


def test_body_escapes_non_ascii_like_meta_and_reserialising_breaks_the_signature() -> None:
    body = serialize(batch_payload([inbound(3, text="Grüße 优惠码 😀")]))
    assert body.isascii()
    assert b"Gr\\u00fc\\u00dfe \\u4f18\\u60e0\\u7801 \\ud83d\\ude00" in body
    reencoded = json.dumps(json.loads(body), ensure_ascii=False).encode()
    assert not verify("mock-app-secret", reencoded, signature("mock-app-secret", body))


def test_headers_carry_meta_user_agent_and_signature() -> None:
    headers = signed_headers("s", b"{}")
    assert headers["User-Agent"] == USER_AGENT == "facebookexternalua"
    assert headers["X-Hub-Signature-256"] == "sha256=" + hmac_sha256_by_hand(b"s", b"{}")


def test_inbound_and_status_payloads_carry_bsuid_contacts() -> None:
    payload = batch_payload([inbound(4)])
    value = payload["entry"][0]["changes"][0]["value"]
    assert payload["object"] == "whatsapp_business_account"
    assert payload["entry"][0]["id"] == WABA
    assert value["metadata"]["phone_number_id"] == PNID
    assert value["contacts"][0] == {
        "profile": {"name": "Jörg Müller 4"},
        "wa_id": "4915100000004",
        "user_id": "DE.1004",
    }
    assert value["messages"][0]["timestamp"] == "1750000004"

    ladder = StatusLadder(LadderConfig(failed_rate=0.0), seed=1)
    statuses = [update for _, update in ladder.updates(outbound(7))]
    value = batch_payload(statuses)["entry"][0]["changes"][0]["value"]
    assert len(value["contacts"]) == len(value["statuses"])
    assert all(c["user_id"] == "DE.1007" for c in value["contacts"])
    assert value["statuses"][0]["biz_opaque_callback_data"] == "cb-7"


def test_a_batch_groups_by_waba_and_number_with_contacts_aligned() -> None:
    ladder = StatusLadder(LadderConfig(failed_rate=0.0), seed=1)
    updates = [update for n in range(5) for _, update in ladder.updates(outbound(n))] + [inbound(9)]
    payload = batch_payload(updates)
    changes = payload["entry"][0]["changes"]
    assert len(payload["entry"]) == 1 and len(changes) == 2
    statuses = changes[0]["value"]
    for status, contact in zip(statuses["statuses"], statuses["contacts"], strict=True):
        assert status["recipient_id"] == contact["wa_id"]
    assert changes[1]["value"]["messages"][0]["id"] == "wamid.in9"


@pytest.mark.anyio
async def test_pywa_parses_signed_inbound_and_status_webhooks() -> None:
    """pywa 4.5 fails on webhooks without contacts[].user_id; ours must reach its handlers."""
    app = Starlette()
    wa = WhatsApp(phone_id=PNID, token="x", server=app, verify_token="v", app_secret="mock-app-secret")
    messages, statuses = [], []
    wa.on_message()(lambda _client, message: messages.append(message))
    wa.on_message_status()(lambda _client, status: statuses.append(status))

    ladder = StatusLadder(LadderConfig(failed_rate=0.0, read_receipts_off_share=0.0, read_share=1.0), seed=3)
    status_update = ladder.updates(outbound(11))[0][1]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        for update in (inbound(10, text="discount code? 折扣码"), status_update):
            body = serialize(batch_payload([update]))
            response = await client.post("/", content=body, headers=signed_headers("mock-app-secret", body))
            assert response.status_code == 200
        forged = serialize(batch_payload([inbound(12)]))
        response = await client.post("/", content=forged, headers=signed_headers("wrong-secret", forged))
        assert response.status_code in (401, 403)

    assert [m.text for m in messages] == ["discount code? 折扣码"]
    assert messages[0].from_user.bsuid == "DE.1010" and messages[0].from_user.wa_id == "4915100000010"
    assert [(s.id, s.status.value, s.tracker) for s in statuses] == [("wamid.out11", "sent", "cb-11")]
    assert statuses[0].from_user.bsuid == "DE.1011"
    assert statuses[0].pricing is not None and statuses[0].conversation is not None


@given(text=st.text(max_size=200), name=st.text(max_size=40))
def test_any_text_survives_serialisation_and_signs_verifiably(text: str, name: str) -> None:
    update = inbound(1, text=text)
    update = Update(
        update.kind,
        update.wamid,
        update.waba_id,
        update.phone_number_id,
        "1555",
        Contact("4915100000001", "DE.1", name=name),
        update.body,
    )
    body = serialize(batch_payload([update]))
    assert body.isascii()
    value = json.loads(body)["entry"][0]["changes"][0]["value"]
    assert value["messages"][0]["text"]["body"] == text and value["contacts"][0]["profile"]["name"] == name
    assert signature("k", body) == "sha256=" + hmac_sha256_by_hand(b"k", body)


_texts = st.text(max_size=30)
_contacts = st.builds(
    Contact,
    wa_id=st.sampled_from(["", "4915100000001"]),
    user_id=st.text(min_size=1, max_size=20),
    name=st.none() | _texts,
    username=st.none() | _texts,
    parent_user_id=st.none() | _texts,
)
_updates = st.builds(
    Update,
    kind=st.sampled_from(["message", "status"]),
    wamid=_texts,
    waba_id=_texts,
    phone_number_id=_texts,
    display_phone_number=_texts,
    contact=_contacts,
    body=st.dictionaries(_texts, _texts | st.integers(-(2**53), 2**53), max_size=4),
)


@given(update=_updates)
def test_the_one_update_fast_path_builds_the_grouped_document_byte_for_byte(update: Update) -> None:
    assert single_payload(update) == grouped_payload([update])
    assert serialize(batch_payload([update])) == serialize(grouped_payload([update]))
    assert webhook_body([update]) == serialize(grouped_payload([update]))  # the framed bytes, non-ASCII too


def test_an_identifier_holding_a_frame_mark_takes_the_full_path() -> None:
    contact = Contact("4915100000001", "DE.1")
    for waba_id in ("\x00scrmbench-contact\x00", "\x00scrmbench-body\x00", "200000000000001"):
        update = Update("status", "wamid.1", waba_id, "1000", "1555", contact, {"id": "wamid.1", "status": "sent"})
        assert webhook_body([update]) == serialize(grouped_payload([update]))
        assert webhook_body([update, update]) == serialize(grouped_payload([update, update]))


@given(update=_updates, second=_updates, secret=st.text(max_size=80), batched=st.booleans())
def test_the_signed_webhook_is_the_full_body_signed_by_rfc_2104(
    update: Update, second: Update, secret: str, batched: bool
) -> None:
    # The dispatcher's one call: the frame's head signed once per secret must change neither bytes nor signature.
    updates = [update, second] if batched else [update]
    body, headers = signed_webhook(updates, secret)
    assert body == webhook_body(updates) == serialize(grouped_payload(updates))
    assert headers == signed_headers(secret, body)
    assert headers[SIGNATURE_HEADER] == "sha256=" + hmac_sha256_by_hand(secret.encode("utf-8"), body)


@given(secret=st.text(max_size=100), head=st.binary(max_size=200), rest=st.binary(max_size=200))
def test_a_kept_head_signs_like_the_whole_body(secret: str, head: bytes, rest: bytes) -> None:
    headers = signed_headers(secret, rest, head=head)
    assert headers == signed_headers(secret, head + rest)
    assert headers[SIGNATURE_HEADER] == "sha256=" + hmac_sha256_by_hand(secret.encode("utf-8"), head + rest)


@given(secret=st.text(max_size=100), body=st.binary(max_size=300))
def test_the_precomputed_key_signs_like_rfc_2104_for_any_secret(secret: str, body: bytes) -> None:
    # Secrets longer than SHA-256's 64-byte block are hashed first (RFC 2104); non-ASCII ones are UTF-8.
    assert signature(secret, body) == "sha256=" + hmac_sha256_by_hand(secret.encode("utf-8"), body)
