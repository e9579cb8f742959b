"""The sending number of each dialect: a call's ``sender`` reaches the vendor where its real API takes it (Meta's
path, Twilio's From, WATI's channel_number / channelPhoneNumber, the reference vendor's "from", any generic
placeholder); 360dialog cannot choose (its key is per number); without a sender every dialect sends as before."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import orjson

from harness.adapters.base import SendMedia, SendTemplate, SendText, UploadMedia
from harness.adapters.registry import create_adapter, load_profile, parse_profile
from plan.numbers import BusinessNumber
from tests.fixtures.vendors import PROFILE_ENV, SHIPPED_PROFILES

SECOND = BusinessNumber("+15550000002", "100000000000002")
TOKEN = "sb-abc123-1a"


def adapter(file: str):
    return create_adapter(load_profile(SHIPPED_PROFILES / file), environ=PROFILE_ENV)


def test_meta_cloud_api_puts_the_senders_id_in_the_path_of_sends_and_uploads() -> None:
    meta = adapter("cloud-api-mock.yaml")
    default = meta.build(SendText("+49151", "hi", TOKEN))
    assert default.path.endswith("/100000000000001/messages")
    chosen = meta.build(SendText("+49151", "hi", TOKEN, sender=SECOND))
    assert chosen.path.endswith("/100000000000002/messages") and chosen.path.startswith("/v")
    template = meta.build(SendTemplate("+49151", "promo", correlation_id=TOKEN, sender=SECOND))
    assert template.path.endswith("/100000000000002/messages")
    upload = meta.build(UploadMedia(b"x", sender=SECOND))
    assert upload.path.endswith("/100000000000002/media")


def test_360dialog_cannot_choose_its_key_decides_the_number() -> None:
    d360 = adapter("360dialog-facade.yaml")
    assert d360.build(SendText("+49151", "hi", TOKEN, sender=SECOND)).path == "/messages"
    assert d360.build(UploadMedia(b"x", sender=SECOND)).path == "/media"


def test_twilio_sends_from_the_sender_as_a_whatsapp_address() -> None:
    twilio = adapter("twilio-facade.yaml")
    default = parse_qs(twilio.build(SendText("+49151", "hi", TOKEN)).body.decode())
    assert default["From"] == ["whatsapp:+15550000001"]
    chosen = parse_qs(twilio.build(SendMedia("+49151", link="https://x.invalid/a.jpg", sender=SECOND)).body.decode())
    assert chosen["From"] == ["whatsapp:+15550000002"]


def test_wati_names_the_channel_number_for_session_and_template_sends() -> None:
    wati = adapter("wati-facade.yaml")
    default = wati.build(SendText("+49151", "hi", TOKEN))
    assert "channelPhoneNumber" not in parse_qs(urlsplit(default.path).query)  # the tenant's default number
    text = wati.build(SendText("+49151", "hi", TOKEN, sender=SECOND))
    assert parse_qs(urlsplit(text.path).query)["channelPhoneNumber"] == ["15550000002"]
    template = wati.build(SendTemplate("+49151", "promo", correlation_id=TOKEN, sender=SECOND))
    assert orjson.loads(template.body)["channel_number"] == "15550000002"


def test_the_reference_vendor_gets_the_senders_id_as_from() -> None:
    ref = adapter("reference-steady.yaml")
    assert "from" not in orjson.loads(ref.build(SendText("+49151", "hi", TOKEN)).body)
    assert orjson.loads(ref.build(SendText("+49151", "hi", TOKEN, sender=SECOND)).body)["from"] == SECOND.id
    media = ref.build(SendMedia("+49151", media_id="7", sender=SECOND))
    assert orjson.loads(media.body)["from"] == SECOND.id
    upload = ref.build(UploadMedia(b"x", sender=SECOND))
    assert b'name="from"\r\n\r\n100000000000002' in upload.body


def test_generic_http_fills_the_from_placeholders_with_the_sender() -> None:
    profile = parse_profile(
        {
            "name": "acme",
            "adapter": "generic-http",
            "base_url": "http://127.0.0.1:9",
            "phone_numbers": [{"number": "+15550000001", "id": "100000000000001"}],
            "capabilities": {"operations": ["send_text"]},
            "options": {
                "operations": {
                    "send_text": {
                        "path": "/v1/{phone_number_id}/send",
                        "json": {"from": "{from}", "channel": "{from_digits}", "to": "{to_digits}", "body": "{text}"},
                    }
                }
            },
        },
        source="acme.yaml",
    )
    generic = create_adapter(profile, environ={})
    default = generic.build(SendText("+49151", "hi", TOKEN))
    assert default.path == "/v1/100000000000001/send"
    chosen = generic.build(SendText("+49151", "hi", TOKEN, sender=SECOND))
    assert chosen.path == "/v1/100000000000002/send"
    assert orjson.loads(chosen.body)["from"] == "+15550000002"
    assert orjson.loads(chosen.body)["channel"] == "15550000002"
