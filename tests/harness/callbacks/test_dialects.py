"""Each callback dialect reads and checks the bodies its vendor sends (sans-IO: bytes in, events out)."""

from __future__ import annotations

from urllib.parse import urlencode

import orjson
import pytest

from ground.errors import ConfigError
from harness.callbacks.dialects import (
    CallbackRequest,
    Malformed,
    create_dialect,
    hmac_sha256_header,
)
from mocks.facades.twilio_callbacks import twilio_signature as facade_signature

URL = "https://tunnel.example.net/cb/s3cret"
TOKEN = "twilio-auth-token"
AT = 1_800_000_000.0


def twilio_request(params: dict[str, str], *, secret: str = TOKEN, url: str = URL) -> CallbackRequest:
    body = urlencode(params).encode()
    headers = {"x-twilio-signature": facade_signature(secret, url, params)}
    return CallbackRequest(url, headers, body, "application/x-www-form-urlencoded")


STATUS = {
    "MessageSid": "SM0123",
    "SmsSid": "SM0123",
    "MessageStatus": "undelivered",
    "ErrorCode": "63016",
    "To": "whatsapp:+4915112345678",
    "AccountSid": "AC1",
}


def test_twilio_reads_a_status_callback_signed_as_twilio_signs_it() -> None:
    dialect = create_dialect("twilio", {})
    request = twilio_request(STATUS)

    assert dialect.verify(request, TOKEN)
    [event] = dialect.parse(request, AT)
    assert (event.vendor_message_id, event.status, event.vendor_status) == ("SM0123", "failed", "undelivered")
    assert (event.error_code, event.recipient, event.received_at) == ("63016", "+4915112345678", AT)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: CallbackRequest(r.url, {}, r.body),  # unsigned
        lambda r: CallbackRequest(r.url, r.headers, r.body.replace(b"undelivered", b"delivered")),  # body changed
        lambda r: CallbackRequest("http://127.0.0.1:9/cb/s3cret", r.headers, r.body),  # signed for another URL
    ],
)
def test_twilio_refuses_unsigned_changed_or_misaddressed_callbacks(tamper) -> None:
    dialect = create_dialect("twilio", {})
    assert not dialect.verify(tamper(twilio_request(STATUS)), TOKEN)
    assert not dialect.verify(twilio_request(STATUS, secret="another-token"), TOKEN)


def test_twilio_without_a_sid_or_status_is_malformed() -> None:
    dialect = create_dialect("twilio", {})
    with pytest.raises(Malformed, match="MessageSid"):
        dialect.parse(twilio_request({"MessageStatus": "sent"}), AT)


def cloud_body() -> bytes:
    status = {
        "id": "wamid.A",
        "status": "delivered",
        "timestamp": "1800000001",
        "recipient_id": "4915112345678",
        "biz_opaque_callback_data": "sb-abc123-7",
    }
    failed = {"id": "wamid.B", "status": "failed", "timestamp": "1800000002", "errors": [{"code": 131026}]}
    message = {"id": "wamid.IN", "from": "4915100000000", "timestamp": "1800000003", "type": "text"}
    value = {"statuses": [status, failed], "messages": [message]}
    return orjson.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": value}]}]})


def test_cloud_api_reads_statuses_and_messages_and_checks_the_hub_signature() -> None:
    dialect = create_dialect("cloud-api", {})
    body = cloud_body()
    request = CallbackRequest(URL, {"x-hub-signature-256": hmac_sha256_header("app-secret", body)}, body)

    assert dialect.verify(request, "app-secret")
    assert not dialect.verify(request, "other-secret")
    assert not dialect.verify(CallbackRequest(URL, {}, body), "app-secret")
    events = dialect.parse(request, AT)
    assert [(e.vendor_message_id, e.status) for e in events] == [
        ("wamid.A", "delivered"),
        ("wamid.B", "failed"),
        ("wamid.IN", "inbound"),
    ]
    assert events[0].correlation_id == "sb-abc123-7" and events[0].reported_at == 1_800_000_001.0
    assert events[1].error_code == "131026"


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"entry": [{"changes": [{"value": {"statuses": [{}]}}]}]}'])
def test_cloud_api_bodies_it_cannot_read_are_malformed(body: bytes) -> None:
    with pytest.raises(Malformed):
        create_dialect("cloud-api", {}).parse(CallbackRequest(URL, {}, body), AT)


def test_wati_reads_its_event_types_and_an_optional_shared_header() -> None:
    body = orjson.dumps(
        {
            "eventType": "sentMessageDELIVERED_v2",
            "whatsappMessageId": "wamid.W",
            "localMessageId": "d38f0c3a",
            "timestamp": "1765791326",
            "text": "hello sb-abc123-9",
        }
    )
    [event] = create_dialect("wati", {}).parse(CallbackRequest(URL, {}, body), AT)
    assert (event.vendor_message_id, event.status, event.correlation_id) == ("wamid.W", "delivered", "sb-abc123-9")
    guarded = create_dialect("wati", {"header": "X-Run-Key"})
    assert guarded.verify(CallbackRequest(URL, {"x-run-key": "k"}, body), "k")
    assert not guarded.verify(CallbackRequest(URL, {}, body), "k")
    with pytest.raises(Malformed, match="eventType"):
        guarded.parse(CallbackRequest(URL, {}, b"{}"), AT)


def test_the_generic_mapping_reads_a_list_of_events_and_checks_its_header() -> None:
    mapping = {
        "events": "data.items",
        "id": "msg.id",
        "status": "state",
        "status_map": {"DLVRD": "delivered", "SEEN": "read", "ERR": "failed"},
        "error_code": "reason",
        "signature_header": "X-Signature",
    }
    dialect = create_dialect("generic", mapping)
    items = [{"msg": {"id": "m1"}, "state": "DLVRD"}, {"msg": {"id": "m2"}, "state": "ERR", "reason": 42}]
    body = orjson.dumps({"data": {"items": items}})
    signed = CallbackRequest(URL, {"x-signature": hmac_sha256_header("k", body).removeprefix("sha256=")}, body)

    assert dialect.verify(signed, "k") and not dialect.verify(CallbackRequest(URL, {}, body), "k")
    events = dialect.parse(signed, AT)
    assert [(e.vendor_message_id, e.status, e.error_code) for e in events] == [
        ("m1", "delivered", None),
        ("m2", "failed", "42"),
    ]
    with pytest.raises(Malformed):
        dialect.parse(CallbackRequest(URL, {}, orjson.dumps({"data": {"items": [{"state": "SEEN"}]}})), AT)


def test_a_bad_mapping_or_an_unknown_dialect_is_a_config_error_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"callbacks\.options\.colour"):
        create_dialect("generic", {"id": "x", "status": "y", "status_map": {"ok": "delivered"}, "colour": "red"})
    with pytest.raises(ConfigError, match=r"callbacks\.options\.events"):
        create_dialect("twilio", {"events": "data"})  # Twilio's callbacks have one shape: nothing to map
    with pytest.raises(ConfigError, match="callback dialect"):
        create_dialect("telepathy", {})
