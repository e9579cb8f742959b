"""The status ladder of an accepted outbound message: ``sent`` → ``delivered`` → ``read``, or ``failed``.

Each message's ladder is drawn from its own random stream, seeded by (seed, wamid), so it is the same whatever
order messages arrive in or however many workers deliver them. Whether a user has read receipts off is drawn
per user, so such a user never sends ``read`` for any message.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, replace

from mocks.whatsapp.ledger import LedgerEntry
from mocks.whatsapp.webhooks.config import LadderConfig
from mocks.whatsapp.webhooks.payloads import Contact, Update, status_body

DAY_S = 86400


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """What the ladder needs to know about an accepted outbound message."""

    wamid: str
    waba_id: str
    phone_number_id: str
    display_phone_number: str
    contact: Contact
    type: str
    accepted_at: float  # wall clock, for the statuses' timestamps
    biz_opaque_callback_data: str | None = None
    category: str = "service"  # pricing category: marketing | utility | authentication | service
    error_code: int | None = None  # the mock decided at acceptance that this message fails (e.g. 131026)
    # The pricing the mock decided at acceptance (send.py ``pricing_of``): billable, and regular |
    # free_customer_service | free_entry_point. None: from the category alone (tests, older callers).
    billable: bool | None = None
    pricing_type: str | None = None
    phone_withheld: bool = False  # no message exchanged in 30 days: no recipient_id, no contacts[].wa_id
    # Delivery retried while the phone cannot be reached (docs/whatsapp-2026.md §4), both in seconds after
    # acceptance on the engine's (compressed) timeline: how long the recipient stays unreachable, and the
    # message's time-to-live (None: no limit).
    unreachable_s: float = 0.0
    ttl_s: float | None = None


@dataclass(frozen=True, slots=True)
class PlannedStatus:
    offset_s: float  # after acceptance
    status: str  # sent | delivered | read | failed
    error_code: int | None = None


def unit_hash(*parts: object) -> float:
    """A stable number in [0, 1) from ``parts`` (not Python's salted hash())."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class StatusLadder:
    def __init__(self, config: LadderConfig, seed: int) -> None:
        self.config = config
        self.seed = seed

    def read_receipts_off(self, recipient: str) -> bool:
        return unit_hash(self.seed, "receipts", recipient) < self.config.read_receipts_off_share

    def plan(
        self,
        wamid: str,
        recipient: str,
        error_code: int | None = None,
        *,
        unreachable_s: float = 0.0,
        ttl_s: float | None = None,
    ) -> list[PlannedStatus]:
        cfg = self.config
        rng = random.Random(f"{self.seed}:ladder:{wamid}")
        at = cfg.sent.sample_s(rng)
        if error_code is not None:
            return [PlannedStatus(at, "failed", error_code)]
        if rng.random() < cfg.failed_rate:
            # Async failures (131026, 131049) come without sent/delivered, as in Meta's fixtures.
            return [PlannedStatus(at, "failed", rng.choice(cfg.failed_codes))]
        steps = [PlannedStatus(at, "sent")]
        if unreachable_s > 0.0:
            # The phone cannot be reached: delivery is retried until it can, or until the TTL runs out.
            if ttl_s is not None and unreachable_s >= ttl_s:
                steps.append(PlannedStatus(max(at, ttl_s), "failed", cfg.ttl_expired_code))
                return steps
            at = max(at, unreachable_s)
        at += cfg.delivered.sample_s(rng)
        steps.append(PlannedStatus(at, "delivered"))
        read_draw = rng.random()  # drawn for every message so the stream does not depend on the user
        if not self.read_receipts_off(recipient) and read_draw < cfg.read_share:
            read_at = at + cfg.read.sample_s(rng)
            # Drawn last, so a ladder with skip_delivered_share 0 is the same stream as before the setting.
            if rng.random() < cfg.skip_delivered_share:
                # Delivered and read at once (the user is in the chat): Meta sends no ``delivered`` webhook.
                steps[-1] = PlannedStatus(at, "read")
            else:
                steps.append(PlannedStatus(read_at, "read"))
        return steps

    def updates(self, message: OutboundMessage) -> list[tuple[float, Update]]:
        """(offset after acceptance, status update) for every step of the message's ladder."""
        category = message.category
        contact = message.contact
        shown = replace(contact, wa_id="") if message.phone_withheld else contact
        with_user_id = self.config.recipient_user_id
        out = []
        steps = self.plan(
            message.wamid,
            contact.wa_id,
            message.error_code,
            unreachable_s=message.unreachable_s,
            ttl_s=message.ttl_s,
        )
        delivered = any(step.status == "delivered" for step in steps)
        for step in steps:
            # Pricing rides on sent and delivered; on read too when read stands in for a skipped delivered.
            priced = step.status in ("sent", "delivered") or (step.status == "read" and not delivered)
            body = status_body(
                wamid=message.wamid,
                status=step.status,
                timestamp=message.accepted_at + step.offset_s,
                recipient_id=shown.wa_id or None,
                conversation=conversation(message, category) if priced else None,
                pricing=pricing(category, message.billable, message.pricing_type) if priced else None,
                biz_opaque_callback_data=message.biz_opaque_callback_data,
                error_code=step.error_code,
                recipient_user_id=contact.user_id if with_user_id else None,
                recipient_parent_user_id=contact.parent_user_id if with_user_id else None,
            )
            update = Update(
                kind="status",
                wamid=message.wamid,
                waba_id=message.waba_id,
                phone_number_id=message.phone_number_id,
                display_phone_number=message.display_phone_number,
                contact=shown,
                body=body,
            )
            out.append((step.offset_s, update))
        return out


TTL_DEFAULT_S = 30 * DAY_S  # Meta's default time-to-live for utility and marketing templates
TTL_AUTHENTICATION_S = 600.0  # and for authentication templates (10 minutes)


def ttl_of(entry: LedgerEntry) -> float:
    """The time-to-live of an accepted message in seconds (Meta, "Configure message time-to-live"): the one given to
    the Marketing Messages API (``extra.ttl_s``), else the default of its category."""
    ttl = (entry.extra or {}).get("ttl_s")
    if isinstance(ttl, (int, float)) and not isinstance(ttl, bool):
        return float(ttl)
    return TTL_AUTHENTICATION_S if entry.category == "authentication" else TTL_DEFAULT_S


def conversation(message: OutboundMessage, category: str) -> dict[str, object]:
    """A conversation id stable per (number, customer, category, day), expiring at the end of that day."""
    day = int(message.accepted_at // DAY_S)
    key = f"{message.phone_number_id}:{message.contact.wa_id}:{category}:{day}"
    return {
        "id": hashlib.md5(key.encode(), usedforsecurity=False).hexdigest(),
        "expiration_timestamp": str((day + 1) * DAY_S),
        "origin": {"type": category},
    }


def pricing(category: str, billable: bool | None = None, kind: str | None = None) -> dict[str, object]:
    """The status's ``pricing`` object (per-message pricing, docs/whatsapp-2026.md §6). Without the acceptance's
    decision: service (free-form replies inside the customer service window) free, templates regular."""
    if billable is None or kind is None:
        billable = category != "service"
        kind = "regular" if billable else "free_customer_service"
    return {"billable": billable, "pricing_model": "PMP", "type": kind, "category": category}
