from __future__ import annotations

import re
from collections import Counter

from mocks.whatsapp.ledger import LedgerEntry
from mocks.whatsapp.webhooks.customers import LANGUAGES, PHRASES, SimulatedCustomers
from mocks.whatsapp.webhooks.replies import ReplyTracker

COUNTRY_CODES = ("1", "44", "91", "49", "33", "86", "34", "52", "55", "351")


def test_customers_are_reproducible_from_the_seed_in_any_order() -> None:
    forward = [SimulatedCustomers(seed=3).customer(i) for i in range(50)]
    one = SimulatedCustomers(seed=3)
    backward = [one.customer(i) for i in reversed(range(50))][::-1]
    assert forward == backward
    assert forward != [SimulatedCustomers(seed=4).customer(i) for i in range(50)]


def test_numbers_are_e164_of_real_country_codes_and_languages_cover_six() -> None:
    factory = SimulatedCustomers(seed=1)
    customers = [factory.customer(i) for i in range(1500)]
    for c in customers:
        assert re.fullmatch(r"[1-9][0-9]{9,14}", c.wa_id), c
        assert c.wa_id.startswith(COUNTRY_CODES)
    assert len({c.wa_id for c in customers}) == len(customers)
    assert set(Counter(c.language for c in customers)) == set(LANGUAGES)
    chinese = [c for c in customers if c.locale == "zh_CN"]
    assert chinese and all(re.search(r"[\u4e00-\u9fff]", c.name) for c in chinese)
    assert all(c.wa_id.startswith("86") for c in chinese)


def test_texts_are_in_the_customers_language_and_intent_zero_asks_for_a_discount() -> None:
    factory = SimulatedCustomers(seed=2)
    for i in range(60):
        customer = factory.customer(i)
        assert factory.text(customer, i) in PHRASES[customer.language]
        assert factory.text(customer, intent=0) == PHRASES[customer.language][0]
    assert factory.text(factory.customer(1), 5) == SimulatedCustomers(seed=2).text(factory.customer(1), 5)


def entry(wamid: str, direction: str, wa_id: str, at: float, context: str | None = None) -> LedgerEntry:
    return LedgerEntry(
        arrived_at=at,
        arrived_monotonic=at,
        wamid=wamid,
        direction=direction,
        phone_number_id="100000000000001",
        recipient=wa_id,
        type="text",
        size_bytes=1,
        context_message_id=context,
        wa_id=wa_id,
    )


def test_first_message_after_an_inbound_one_is_its_reply() -> None:
    tracker = ReplyTracker()
    inbound = entry("wamid.in", "inbound", "4915100000001", 10.0)
    tracker.note_inbound(inbound, inbound.wa_id)
    tracker.note_delivered("wamid.in", 10.5)
    tracker.note_delivered("wamid.in", 99.0)  # a duplicate delivery does not move the time
    assert inbound.inbound_delivered_at == 10.5
    other = entry("wamid.o0", "outbound", "4915100000002", 11.0)
    assert tracker.link(other) is None and other.reply_to_wamid is None
    reply = entry("wamid.o1", "outbound", "4915100000001", 12.0)
    assert tracker.link(reply) == "wamid.in"
    assert (reply.reply_to_wamid, reply.inbound_delivered_at) == ("wamid.in", 10.5)
    assert reply.arrived_at - reply.inbound_delivered_at == 1.5
    second = entry("wamid.o2", "outbound", "4915100000001", 13.0)
    assert tracker.link(second) is None  # only the first message after the inbound one


def test_context_links_even_later_and_waits_for_a_pending_delivery() -> None:
    tracker = ReplyTracker()
    for n in range(2):
        tracker.note_inbound(entry(f"wamid.in{n}", "inbound", "4915100000001", float(n)), "4915100000001")
    quoted = entry("wamid.o", "outbound", "4915100000001", 5.0, context="wamid.in0")
    assert tracker.link(quoted) == "wamid.in0"
    assert quoted.inbound_delivered_at is None
    tracker.note_delivered("wamid.in0", 4.0)
    assert quoted.inbound_delivered_at == 4.0
    nxt = entry("wamid.o2", "outbound", "4915100000001", 6.0)
    assert tracker.link(nxt) == "wamid.in1"


def test_tracker_stays_bounded() -> None:
    tracker = ReplyTracker(max_tracked=100)
    for n in range(1000):
        tracker.note_inbound(entry(f"w{n}", "inbound", f"49151{n:08d}", float(n)), f"49151{n:08d}")
    assert len(tracker) == 100 and len(tracker._unanswered) == 100
    assert tracker.link(entry("o", "outbound", "4915100000000", 2000.0)) is None  # w0 was forgotten
    assert tracker.link(entry("o", "outbound", f"49151{999:08d}", 2000.0)) == "w999"


def test_tracker_lets_go_of_ledger_rows_once_their_delivery_is_known() -> None:
    # A soak links thousands of replies an hour; the rows belong to the ledger (which spills them), not here.
    tracker = ReplyTracker()
    customer = "4915100000001"
    inbound = entry("wamid.in", "inbound", customer, 1.0)
    tracker.note_inbound(inbound, customer)
    early = entry("wamid.o1", "outbound", customer, 2.0)
    tracker.link(early)  # linked before the inbound webhook was acknowledged: waits for its time
    assert tracker.rows_held == 2
    tracker.note_delivered("wamid.in", 1.5)
    assert tracker.rows_held == 0 and (inbound.inbound_delivered_at, early.inbound_delivered_at) == (1.5, 1.5)
    late = entry("wamid.o2", "outbound", customer, 3.0, context="wamid.in")
    assert tracker.link(late) == "wamid.in" and late.inbound_delivered_at == 1.5
    assert tracker.rows_held == 0 and tracker.delivered_at("wamid.in") == 1.5
