"""One scheduled slot → one request: build the call, send it with the user's Locust client, read the outcome.

Adapters are sans-IO (``harness.adapters.base``): they build an ``HttpRequest`` and interpret the answer. Here
the request goes out through Locust's FastHttpSession with ``catch_response=True``, so Locust times it and fires
``events.request``; before the event fires, the adapter's verdict and the record fields go into the request's
``context``, which the recorder (``harness.recorder``) writes:

    scheduled_at, operation, correlation_id, outcome, error_kind, error_code, error_text,
    vendor_message_id, bytes_sent, worker, vendor, scenario, phone_number_id

Every send (and every customer message, which a customer writes *to* a business number) goes over the profile's
numbers in turn (``plan.numbers.NumberSpread``: a seeded, weighted round-robin over the worker's own count of sends,
and separately of customer messages), and its record names the number's id in ``phone_number_id``.

``customer_message`` is not a vendor call: it asks the mock to deliver a customer's message to the vendor as a
signed webhook (docs/contracts.md, control plane), which is how the peak and webhook-storm scenarios load a
vendor from the customer side.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from ground.correlation import make_token
from harness.adapters.base import (
    Adapter,
    Call,
    Health,
    Outcome,
    SearchConversations,
    SendMedia,
    SendTemplate,
    SendText,
    TransportFailure,
    UploadMedia,
)
from harness.loadgen.customers import CustomerBook
from harness.loadgen.media import MediaSet
from mocks.whatsapp.shards import sender_for
from plan.numbers import BusinessNumber, NumberSpread

CUSTOMER_MESSAGE_TIMEOUT_S = 30.0  # the mock answers at once; this only bounds a stalled mock

if TYPE_CHECKING:  # importing it here would import gevent's client into processes that never send
    from harness.adapters.pooled_executor import PooledExecutor

# The vendor calls that go out from a business number (the spread picks one for each).
FROM_A_NUMBER = frozenset({"send_text", "send_template", "send_media", "upload_media"})
SEARCH_TERMS = ("discount", "order", "price", "delivery", "refund", "invoice")


class DroppedSlot(Exception):
    """No user of the pool was idle at the slot's scheduled time (recorded, never retried)."""


@dataclass
class MockTarget:
    base_url: str
    admin_token: str
    phone_number_id: str = "100000000000001"
    # A sharded mock: each customer writes to the number its own hash picks (the number the vendor answers from).
    phone_number_ids: tuple[str, ...] = ()

    def number_for(self, customer: str) -> str:
        return sender_for(customer, self.phone_number_ids) if self.phone_number_ids else self.phone_number_id


@dataclass
class Performer:
    """Everything a worker needs to turn a slot into a request; shared by all users of the worker."""

    adapter: Adapter
    customers: CustomerBook
    run_tag: str
    worker_index: int
    worker_name: str
    vendor: str
    scenario: str
    mock: MockTarget | None = None
    media: MediaSet | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    base_url: str = "http://127.0.0.1"
    allowed_targets: tuple[str, ...] = ()
    owner_confirmed: bool = False
    numbers: NumberSpread | None = None  # the profile's numbers; None: the adapter's default (the first)

    def __post_init__(self) -> None:
        self._sequence = itertools.count()
        # One count for sends, one for customer messages: each kind alone goes round the numbers exactly.
        self._number_sequences = {"send": itertools.count(), "inbound": itertools.count()}
        self._rng = random.Random(f"scrmbench-performer-{self.seed}-{self.worker_index}")

    def next_number(self, kind: str = "send", customer: str | None = None) -> BusinessNumber | None:
        """The business number of this worker's next send (``kind`` "send") or customer message ("inbound") to or
        from ``customer``: the customer's own number or the next in turn, as the profile's spread says (a call
        with no customer, a media upload, takes the turn)."""
        if self.numbers is None:
            return None
        sequence = next(self._number_sequences[kind])
        return self.numbers.pick(sequence) if customer is None else self.numbers.pick_for(customer, sequence)

    def next_token(self) -> tuple[int, str]:
        sequence = next(self._sequence)
        return sequence, make_token(self.run_tag, self.worker_index, sequence)

    def recipient(self, sequence: int) -> str:
        # The throttle scenario aims a share of sends at one customer, so the mock's pair limit (131056) bites.
        pair_share = float(self.options.get("pair_share", 0.0))
        if pair_share and self._rng.random() < pair_share:
            return self.customers.customer(0).wa_id
        return self.customers.customer(sequence * 7919 + self.worker_index).wa_id

    def build_call(self, operation: str) -> tuple[Call, BusinessNumber | None]:
        """The call for ``operation`` and the number it goes out from (None for a call from no number). A send names
        that number as its sender when the profile has more than one (a one-number profile leaves the choice to the
        adapter's default, the same number, so its requests stay as they were)."""
        sequence, token = self.next_token()
        to = self.recipient(sequence)
        person = self.customers.customer(sequence)
        number = None
        if operation in FROM_A_NUMBER:
            number = self.next_number(customer=None if operation == "upload_media" else to)
        sender = number if self.numbers is not None and len(self.numbers.numbers) > 1 else None
        call: Call
        if operation == "send_text":
            call = SendText(to=to, text=f"Hello {person.name}, your order update", correlation_id=token, sender=sender)
        elif operation == "send_template":
            call = SendTemplate(
                to=to, template="promo_discount", params=(person.name,), correlation_id=token, sender=sender
            )
        elif operation == "upload_media":
            media = self._media()
            item = media.pick(sequence)
            call = UploadMedia(
                content=item.content,
                mime_type=item.mime_type,
                filename=item.filename,
                correlation_id=token,
                sender=sender,
            )
        elif operation == "send_media":
            call = SendMedia(
                to=to,
                kind="image",
                link="https://example.invalid/catalogue.jpg",
                caption="Our catalogue",
                correlation_id=token,
                sender=sender,
            )
        elif operation == "search_conversations":
            call = SearchConversations(query=SEARCH_TERMS[sequence % len(SEARCH_TERMS)], limit=20)
        elif operation == "health":
            call = Health()
        else:
            raise ValueError(f"operation {operation!r} is not a vendor call")
        return call, number

    def _media(self) -> MediaSet:
        if self.media is None:
            self.media = MediaSet(
                seed=self.seed,
                max_image_kb=int(self.options.get("max_image_kb", 800)),
                max_pdf_kb=int(self.options.get("max_pdf_kb", 2048)),
            )
        return self.media

    def base_context(self, operation: str, scheduled_at: float | None) -> dict[str, Any]:
        return {
            "scheduled_at": scheduled_at,
            "operation": operation,
            "worker": self.worker_name,
            "vendor": self.vendor,
            "scenario": self.scenario,
        }

    def perform(self, executor: PooledExecutor, operation: str, scheduled_at: float | None) -> None:
        """Send one request for ``operation`` through the process's shared executor; never raises for the vendor."""
        if operation == "customer_message":
            self._customer_message(executor, scheduled_at)
            return
        call, number = self.build_call(operation)
        context = self.base_context(operation, scheduled_at)
        if number is not None:
            context["phone_number_id"] = number.id
        executor.execute(self.adapter, self.adapter.build(call), context)

    def _customer_message(self, executor: PooledExecutor, scheduled_at: float | None) -> None:
        if self.mock is None:
            raise ValueError("customer_message needs the mock's URL (the vendor profile cannot be pointed at a mock)")
        sequence, token = self.next_token()
        person = self.customers.customer(sequence * 7919 + self.worker_index)
        number = self.next_number("inbound", person.wa_id)  # the customer writes to their number (or the next)
        multi = number is not None and self.numbers is not None and len(self.numbers.numbers) > 1
        # Many numbers in the profile: the spread's; else the mock's (the profile's id, else the mock's default), or
        # with a sharded mock the number the customer's hash picks (the number the vendor answers from).
        phone_number_id = number.id if multi and number is not None else self.mock.number_for(person.wa_id)
        body = {
            "from": person.wa_id,
            "profile_name": person.name,
            "text": f"{self.customers.question(sequence)} {token}",
            "phone_number_id": phone_number_id,
        }
        context = self.base_context("customer_message", scheduled_at)
        context["phone_number_id"] = phone_number_id
        data = orjson.dumps(body)
        url = f"{self.mock.base_url.rstrip('/')}/_mock/customers/messages"
        headers = {"Authorization": f"Bearer {self.mock.admin_token}", "Content-Type": "application/json"}
        started_at, start = time.time(), time.perf_counter()
        answer = executor.exchange("POST", url, data, headers, CUSTOMER_MESSAGE_TIMEOUT_S)
        latency_ms = (time.perf_counter() - start) * 1000
        if isinstance(answer, TransportFailure):
            outcome = Outcome(
                operation="customer_message", result="indeterminate" if answer.maybe_sent else "failed",
                error_kind=answer.kind, error_code=answer.kind, error_text=answer.detail, correlation_id=token,
                bytes_sent=len(data), latency_ms=latency_ms,
            )  # fmt: skip
        else:
            ok = 200 <= answer.status < 300
            outcome = Outcome(
                operation="customer_message", result="ok" if ok else "failed", http_status=answer.status,
                error_kind="none" if ok else "http", error_code=None if ok else str(answer.status),
                error_text=None if ok else answer.body.decode("utf-8", "replace")[:300], correlation_id=token,
                bytes_sent=len(data), bytes_received=len(answer.body), latency_ms=latency_ms,
            )  # fmt: skip
        executor.report(outcome, method="POST", url=url, started_at=started_at, context=context)


def pick_operation(mix: Sequence[tuple[str, int]], rng: random.Random) -> str:
    names = [name for name, _ in mix]
    weights = [weight for _, weight in mix]
    return names[0] if len(names) == 1 else rng.choices(names, weights=weights)[0]


class OperationPicker:
    """The next operation of a worker's mix: weighted, seeded per (seed, worker, purpose), one generator each."""

    def __init__(self, mix: Sequence[tuple[str, int]], *, seed: int, worker_index: int, purpose: str) -> None:
        self._mix = list(mix)
        self._rng = random.Random(f"scrmbench-{purpose}-{seed}-{worker_index}")

    def next(self) -> str:
        return pick_operation(self._mix, self._rng)
