"""Builders shared by the webhook tests."""

from __future__ import annotations

from mocks.whatsapp.webhooks.ladder import OutboundMessage
from mocks.whatsapp.webhooks.payloads import Contact, Update, message_body

PNID = "100000000000001"
WABA = "200000000000001"


def contact(n: int = 0) -> Contact:
    return Contact(wa_id=f"49151{n:08d}", user_id=f"DE.{1000 + n}", name=f"Jörg Müller {n}")


def inbound(n: int = 0, text: str = "Rabatt? 优惠码") -> Update:
    c = contact(n)
    wamid = f"wamid.in{n}"
    body = message_body(wamid=wamid, sender=c.wa_id, timestamp=1_750_000_000 + n, kind="text", content={"body": text})
    return Update("message", wamid, WABA, PNID, "15550000001", c, body)


def outbound(n: int = 0, **overrides: object) -> OutboundMessage:
    fields: dict = dict(
        wamid=f"wamid.out{n}",
        waba_id=WABA,
        phone_number_id=PNID,
        display_phone_number="15550000001",
        contact=contact(n % 500),
        type="text",
        accepted_at=1_750_000_000.0,
        biz_opaque_callback_data=f"cb-{n}",
    )
    fields.update(overrides)
    return OutboundMessage(**fields)
