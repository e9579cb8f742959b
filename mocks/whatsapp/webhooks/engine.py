"""The webhook engine of one mock process: subscriptions, status ladders, customer messages, reply links.

It joins the core through ``MockState`` (docs/contracts.md): ``on_accepted`` gives it every accepted outbound
message (it links replies and schedules the status ladder), ``on_reset`` clears its queues, and it writes inbound
customer messages to ``state.ledger`` (direction ``inbound``) and opens the 24 h window with
``state.customers.note_inbound``. All network work happens in the dispatcher's own task pool.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from typing import Any

import httpx

from ground.correlation import find_token
from mocks.whatsapp.errors import GraphError
from mocks.whatsapp.ledger import LedgerEntry
from mocks.whatsapp.state import MockState
from mocks.whatsapp.webhooks.config import SubscriptionConfig, WebhookConfig
from mocks.whatsapp.webhooks.customers import PHRASES, SimulatedCustomers
from mocks.whatsapp.webhooks.dispatcher import Delivery, DeliveryResult, Dispatcher
from mocks.whatsapp.webhooks.inbound import (
    DEFAULT_MIME,
    MEDIA_TYPES,
    CustomerMessage,
    MediaIn,
    content_node,
    media_node,
)
from mocks.whatsapp.webhooks.ladder import OutboundMessage, StatusLadder, ttl_of, unit_hash
from mocks.whatsapp.webhooks.payloads import Contact, Update, message_body, throughput_upgrade_body
from mocks.whatsapp.webhooks.replies import ReplyTracker
from mocks.whatsapp.webhooks.subscriptions import Subscription, SubscriptionRegistry, verify
from mocks.whatsapp.webhooks.transport import WebhookTransport, make_transport

log = logging.getLogger("mocks.whatsapp.webhooks")


class WebhookEngine:
    def __init__(
        self,
        state: MockState,
        settings: WebhookConfig,
        transport: WebhookTransport | None = None,
        handshake_transport: httpx.AsyncBaseTransport | None = None,  # tests: keep the hub.challenge GETs in-process
    ) -> None:
        self.state = state
        self._handshake_transport = handshake_transport
        self.settings = settings
        self.subscriptions = SubscriptionRegistry(default_app_secret=state.config.app_secret)
        self.dispatcher = Dispatcher(
            settings,
            clock=state.clock,
            transport=transport or make_transport(settings),
            spill_dir=state.config.ledger.spill_dir,
            queue_lag=state.health.record_webhook_queue_lag,
        )
        self.dispatcher.on_delivered.append(self._delivered)
        self.ladder = StatusLadder(settings.ladder, settings.seed)
        self.replies = ReplyTracker(settings.replies_max_tracked, update=state.ledger.update)
        self.customers = SimulatedCustomers(settings.seed)
        self._next_customer = itertools.count()
        self._handshake_client: httpx.AsyncClient | None = None
        self._background: set[asyncio.Task[Any]] = set()

    # ---- lifecycle --------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._handshake_client = httpx.AsyncClient(trust_env=False, transport=self._handshake_transport)
        await self.dispatcher.start()
        for index, spec in enumerate(self.settings.subscriptions):
            sub = self._add(spec, f"sub_config{index}")  # the same id on every shard of a sharded mock
            # The vendor may start after the mock: verify in the background; POST .../verify re-runs it.
            task = asyncio.create_task(self.verify(sub))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.dispatcher.stop()
        if self._handshake_client is not None:
            await self._handshake_client.aclose()

    def reset(self) -> None:
        """``POST /_mock/reset``: drop queued webhooks, attempt records and reply links; keep subscriptions."""
        self.dispatcher.reset()
        self.replies.reset()

    # ---- subscriptions ----------------------------------------------------------------------------------

    def _add(self, spec: SubscriptionConfig, sub_id: str | None = None) -> Subscription:
        return self.subscriptions.add(**spec.model_dump(), sub_id=sub_id)

    async def subscribe(self, spec: SubscriptionConfig, sub_id: str | None = None) -> Subscription:
        sub = self._add(spec, sub_id)
        await self.verify(sub)
        return sub

    async def verify(self, sub: Subscription) -> dict[str, Any]:
        client = self._handshake_client or httpx.AsyncClient(trust_env=False, transport=self._handshake_transport)
        return await verify(sub, client, timeout_s=self.settings.timeout_s)

    # ---- outbound: status ladder and reply links ---------------------------------------------------------

    def on_accepted(self, entry: LedgerEntry) -> None:
        """Called by the core for each accepted outbound message, inside the Graph request: must not block."""
        self.replies.link(entry)
        if not self.settings.ladder.enabled:
            return
        targets = self.subscriptions.targets(entry.phone_number_id, entry.waba_id)
        if not targets:
            return
        number = self.state.numbers.get(entry.phone_number_id)
        message = OutboundMessage(
            wamid=entry.wamid,
            waba_id=entry.waba_id,
            phone_number_id=entry.phone_number_id,
            display_phone_number=number.display_phone_number if number else entry.phone_number_id,
            contact=Contact(
                wa_id=entry.wa_id or entry.recipient, user_id=entry.user_id, parent_user_id=entry.parent_user_id
            ),
            type=entry.type,
            accepted_at=entry.arrived_at,
            biz_opaque_callback_data=entry.biz_opaque_callback_data,
            category=entry.category,
            error_code=entry.async_error_code,
            billable=entry.billable,
            pricing_type=entry.pricing_type,
            phone_withheld=entry.phone_withheld,
            **self._delivery_wait(entry),
        )
        updates = self.ladder.updates(message)
        failed = next((u.body for _, u in updates if u.body.get("status") == "failed"), None)
        if failed is not None and entry.async_error_code is None:
            # The ledger row says the message was never delivered (so never charged): the ladder failed it.
            entry.async_error_code = int(failed["errors"][0]["code"])
        for offset, update in updates:
            for sub in targets:
                self.dispatcher.submit(update, sub, delay_s=offset)

    def _delivery_wait(self, entry: LedgerEntry) -> dict[str, Any]:
        """How long the recipient stays unreachable after ``entry`` was accepted, and the message's time-to-live,
        on the engine's compressed timeline (docs/whatsapp-2026.md §4); nothing when the recipient is reachable."""
        ladder, now = self.settings.ladder, entry.arrived_at
        compression = self.settings.time_compression
        wait = 0.0
        until = self.state.customers.unreachable_until(entry.wa_id, now)
        if until is not None:
            wait = until - now
        if ladder.unreachable_share and unit_hash(self.settings.seed, "unreachable", entry.wamid) < (
            ladder.unreachable_share
        ):
            rng = random.Random(f"{self.settings.seed}:unreachable:{entry.wamid}")
            wait = max(wait, ladder.unreachable_for.sample_s(rng) / compression)
        if wait <= 0.0:
            return {}
        return {"unreachable_s": wait, "ttl_s": ttl_of(entry) / compression}

    def on_throughput_upgrade(self, phone_number_id: str, duration_s: float) -> None:
        """A throughput upgrade started: ``phone_number_quality_update`` THROUGHPUT_UPGRADE when it is done."""
        number = self.state.numbers.get(phone_number_id)
        if number is None:
            return
        update = Update(
            "account",
            f"throughput-upgrade-{phone_number_id}-{self.state.clock.now():.0f}",
            number.waba_id,
            phone_number_id,
            number.display_phone_number,
            Contact(wa_id="", user_id=""),
            throughput_upgrade_body(number.display_phone_number),
        )
        for sub in self.subscriptions.targets(phone_number_id, number.waba_id):
            self.dispatcher.submit(update, sub, delay_s=duration_s)

    def _delivered(self, delivery: Delivery, sent_at: float) -> None:
        if delivery.kind == "message":
            for update in delivery.updates:
                self.replies.note_delivered(update.wamid, sent_at)

    # ---- inbound: customers write ------------------------------------------------------------------------

    def _targets(self, phone_number_id: str, waba_id: str) -> list[Subscription]:
        targets = self.subscriptions.targets(phone_number_id, waba_id)
        if not targets:
            raise GraphError(
                100,
                f"No verified webhook subscription receives phone number {phone_number_id}. Fix: POST "
                "/_mock/subscriptions with callback_url and verify_token (or skip_verification: true) first.",
                http_status=409,
            )
        return targets

    def compose(self, message: CustomerMessage) -> tuple[LedgerEntry, Update]:
        """Record the customer's message (ledger, 24 h window, reply tracking) and build its webhook update."""
        state, now = self.state, self.state.clock.now()
        phone_number_id = message.phone_number_id or next(iter(state.numbers))
        number = state.numbers.get(phone_number_id)
        if number is None:
            raise GraphError(100, f"phone_number_id {phone_number_id!r} is not one of the mock's {list(state.numbers)}")
        if message.sender is not None:
            wa_id, language = message.sender, "en"
            name = message.profile_name or self.customers.name_for(wa_id)
            text = message.text or PHRASES["en"][0]
        else:
            index = message.customer_index if message.customer_index is not None else next(self._next_customer)
            simulated = self.customers.customer(index)
            wa_id, language, name = simulated.wa_id, simulated.language, message.profile_name or simulated.name
            text = message.text or self.customers.text(simulated)
        identity = state.customers.get_or_create(wa_id, name=name, username=message.username)
        settings = state.config.identity
        withheld = state.customers.note_exchange(
            identity,
            now,
            by_phone=False,
            withhold_after_days=settings.withhold_phone_after_days,
            usernames_only=settings.withhold_phone_for == "usernames",
        )
        parent = state.customers.parent_user_id(identity) if settings.parent_bsuid else None
        wamid = state.new_wamid()
        media, size = None, len(text.encode())
        if message.type in MEDIA_TYPES:
            mime = (message.media.mime_type if message.media else None) or DEFAULT_MIME[message.type]
            try:
                data = (message.media or MediaIn()).data(mime)
            except ValueError as exc:
                raise GraphError(100, str(exc)) from None
            filename = (message.media.filename if message.media else None) or ""
            stored = state.media.put(phone_number_id, mime, data, now, filename)
            media, size = media_node(message.type, stored.id, mime, stored.sha256, message.media), len(data)
        kind, node = content_node(message, text, media)
        shown = "" if withheld else wa_id  # no message in 30 days: the phone number is left out
        body = message_body(
            wamid=wamid, sender=shown, timestamp=now, kind=kind, content=node, context_id=message.context_message_id
        )
        contact = Contact(
            wa_id=shown, user_id=identity.user_id, name=name, username=identity.username, parent_user_id=parent
        )
        update = Update("message", wamid, number.waba_id, phone_number_id, number.display_phone_number, contact, body)
        entry = LedgerEntry(
            arrived_at=now,
            arrived_monotonic=state.clock.monotonic(),
            wamid=wamid,
            direction="inbound",
            phone_number_id=phone_number_id,
            recipient=wa_id,
            type=kind,
            size_bytes=size,
            correlation_id=find_token(text if message.type == "text" else None),
            context_message_id=message.context_message_id,
            wa_id=wa_id,
            user_id=identity.user_id,
            waba_id=number.waba_id,
            extra={"language": language},
        )
        return entry, update

    def _record(self, entry: LedgerEntry) -> None:
        self.state.ledger.append(entry)
        self.state.customers.note_inbound(entry.phone_number_id, entry.wa_id, entry.arrived_at)
        self.replies.note_inbound(entry, entry.wa_id)

    async def send_and_wait(self, message: CustomerMessage) -> dict[str, Any]:
        """Deliver one customer message now and answer with its first attempt (the synchronous form)."""
        entry, update = self.compose(message)
        targets = self._targets(update.phone_number_id, update.waba_id)
        self._record(entry)
        futures = [self.dispatcher.submit_now(update, sub) for sub in targets]
        waiting = [future for future in futures if future is not None]
        # A worker picks it up at once unless every worker is stuck on slow receivers; bound the wait anyway.
        done, _ = await asyncio.wait(waiting, timeout=self.settings.timeout_s * 2 + 5) if waiting else (set(), set())
        results: list[DeliveryResult | None] = [
            future.result() if future is not None and future in done and not future.exception() else None
            for future in futures
        ]
        deliveries = [
            {
                "subscription_id": sub.id,
                "status": result.status if result else 0,
                "outcome": result.outcome if result else ("dropped_overflow" if future is None else "pending"),
                "delivered_at": result.sent_at if result and result.delivered else None,
            }
            for sub, future, result in zip(targets, futures, results, strict=True)
        ]
        return {
            "id": entry.wamid,
            "delivered_at": self.replies.delivered_at(entry.wamid),
            "status": deliveries[0]["status"],
            "wa_id": entry.wa_id,
            "user_id": entry.user_id,
            "deliveries": deliveries,
        }

    def enqueue(self, message: CustomerMessage) -> dict[str, Any]:
        """Queue one customer message for delivery (the batch form); it may be duplicated or reordered."""
        entry, update = self.compose(message)
        targets = self._targets(update.phone_number_id, update.waba_id)
        self._record(entry)
        queued = sum(self.dispatcher.submit(update, sub) for sub in targets)
        return {"id": entry.wamid, "wa_id": entry.wa_id, "queued": queued == len(targets)}

    def core_stats(self) -> dict[str, int]:
        """Merged into ``/_mock/stats``: attempt records kept (memory and disk), and dropped past
        ``attempts_max_rows``."""
        log = self.dispatcher.log
        return {"webhook_attempt_records": len(log), "webhook_attempt_records_evicted": log.evicted}

    def stats(self) -> dict[str, Any]:
        return {
            **self.dispatcher.stats(),
            "subscriptions": len(self.subscriptions.all()),
            "replies_linked": self.replies.linked,
            "replies_tracked": len(self.replies),  # inbound messages remembered for linking (replies_max_tracked)
        }
