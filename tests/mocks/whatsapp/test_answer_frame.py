"""The send path's fast answers agree with the slow ones: the spliced answer frame with ``orjson.dumps`` of the
answer dict, ``Limiters.check_send`` with ``check_throughput`` then ``check_pair`` (hypothesis), the ledger entry
``admit`` builds by position with its fields by name, and the spill's table built by columns with the one built by
rows (hypothesis)."""

from __future__ import annotations

import dataclasses

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ground.clock import FakeClock
from mocks.whatsapp.config import IdentityConfig, LimitsConfig, MockConfig
from mocks.whatsapp.errors import GraphError
from mocks.whatsapp.ledger import LedgerEntry, _entries_table, _table
from mocks.whatsapp.limiters import Limiters
from mocks.whatsapp.send import _ENTRY_FIELDS, accepted_answer, accepted_body, admit
from mocks.whatsapp.state import MockState
from mocks.whatsapp.validation import Send, parse_send
from tests.mocks.whatsapp.helpers import PNID

# Phone numbers as vendors write them, BSUIDs, and any text at all (quotes, backslashes, control and non-ASCII).
ADDRESS = st.one_of(
    st.from_regex(r"\+?[0-9]{6,15}", fullmatch=True),
    st.from_regex(r"[A-Z]{2}\.[0-9]{5,20}", fullmatch=True),
    st.text(max_size=20),
)


def _entry(wamid: str, wa_id: str, user_id: str) -> LedgerEntry:
    return LedgerEntry(
        arrived_at=1.0,
        arrived_monotonic=1.0,
        wamid=wamid,
        direction="outbound",
        phone_number_id="100000000000001",
        recipient=wa_id,
        type="text",
        size_bytes=10,
        wa_id=wa_id,
        user_id=user_id,
    )


@given(
    to=st.none() | ADDRESS,
    recipient=st.none() | ADDRESS,
    wa_id=ADDRESS,
    user_id=ADDRESS,
    wamid=st.one_of(st.from_regex(r"wamid\.[A-Za-z0-9+/=]{24}", fullmatch=True), st.text(max_size=30)),
)
@settings(max_examples=500, deadline=None)
def test_the_spliced_answer_is_byte_for_byte_what_orjson_writes(
    to: str | None, recipient: str | None, wa_id: str, user_id: str, wamid: str
) -> None:
    outbound = Send(kind="message", type="text", to=to, recipient=recipient, texts=["hello"])
    entry = _entry(wamid, wa_id, user_id)
    try:
        expected = orjson.dumps(accepted_answer(entry, outbound))
    except orjson.JSONEncodeError:  # a lone surrogate: neither way can write it
        return
    assert accepted_body(entry, outbound) == expected


def test_a_plain_phone_number_send_takes_the_spliced_frame() -> None:
    outbound = Send(kind="message", type="text", to="+4915112345678", texts=["hello"])
    body = accepted_body(_entry("wamid.HBgLNDkxNTExMjM0NTY3OBUCABEY", "4915112345678", "DE.1"), outbound)
    assert orjson.loads(body) == {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+4915112345678", "wa_id": "4915112345678"}],
        "messages": [{"id": "wamid.HBgLNDkxNTExMjM0NTY3OBUCABEY", "message_status": "accepted"}],
    }


def _limits(throughput: float, burst: int, pair_burst: int) -> LimitsConfig:
    return LimitsConfig(throughput_per_second=throughput, throughput_burst=burst, pair_burst=pair_burst)


def _outcome(check: object, *args: object) -> int:
    try:
        check(*args)  # type: ignore[operator]
    except GraphError as error:
        return error.code
    return 0


@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["1", "2"]), st.sampled_from(["a", "b", "c"]), st.floats(0.0, 3.0)), max_size=60
    ),
    throughput=st.sampled_from([1.0, 5.0, 80.0]),
    burst=st.integers(1, 5),
    pair_burst=st.integers(1, 5),
)
@settings(max_examples=300, deadline=None)
def test_check_send_takes_and_refuses_like_throughput_then_pair(
    steps: list[tuple[str, str, float]], throughput: float, burst: int, pair_burst: int
) -> None:
    config = _limits(throughput, burst, pair_burst)
    one_call, two_calls = Limiters(config), Limiters(config)
    now = 1_750_000_000.0
    for number, recipient, later in steps:
        now += later
        fast = _outcome(one_call.check_send, number, recipient, now)
        slow = _outcome(two_calls.check_throughput, number, now) or _outcome(
            two_calls.check_pair, number, recipient, now
        )
        assert fast == slow
    assert one_call._numbers.keys() == two_calls._numbers.keys()
    for key, bucket in one_call._numbers.items():
        assert (bucket.tokens, bucket.last) == (two_calls._numbers[key].tokens, two_calls._numbers[key].last)
    for key, bucket in one_call._pairs.items():
        assert (bucket.tokens, bucket.last) == (two_calls._pairs[key].tokens, two_calls._pairs[key].last)


def test_admit_gives_the_entry_its_fields_in_their_order() -> None:
    # admit builds LedgerEntry by position (a keyword call costs ~0.7 µs more per send): the order it assumes
    assert [field.name for field in dataclasses.fields(LedgerEntry)][: len(_ENTRY_FIELDS)] == list(_ENTRY_FIELDS)


def test_admit_puts_every_value_in_the_column_it_names() -> None:
    config = MockConfig(identity=IdentityConfig(parent_bsuid=True))
    state = MockState(config, FakeClock())
    state.customers.note_inbound(PNID, "4915112345678", state.clock.now())
    body = {
        "messaging_product": "whatsapp",
        "to": "+4915112345678",
        "type": "text",
        "text": {"body": "order sb-abc123-2bk4 shipped"},
        "context": {"message_id": "wamid.quoted"},
        "biz_opaque_callback_data": "opaque",
    }
    entry = admit(state, PNID, parse_send(body), 321)
    customer = state.customers.by_wa_id("4915112345678")
    assert customer is not None
    assert dataclasses.asdict(entry) == {
        "arrived_at": state.clock.now(),
        "arrived_monotonic": state.clock.monotonic(),
        "wamid": entry.wamid,
        "direction": "outbound",
        "phone_number_id": PNID,
        "recipient": "+4915112345678",
        "type": "text",
        "size_bytes": 321,
        "correlation_id": "sb-abc123-2bk4",
        "context_message_id": "wamid.quoted",
        "reply_to_wamid": None,
        "inbound_delivered_at": None,
        "biz_opaque_callback_data": "opaque",
        "wa_id": "4915112345678",
        "category": "service",
        "billable": False,
        "pricing_type": "free_customer_service",
        "async_error_code": None,
        "user_id": customer.user_id,
        "parent_user_id": state.customers.parent_user_id(customer),
        "phone_withheld": False,
        "waba_id": state.numbers[PNID].waba_id,
        "extra": None,
        "seq": -1,
    }
    assert entry.wamid.startswith("wamid.") and entry.user_id != entry.parent_user_id


OPTIONAL_TEXT = st.none() | st.text(max_size=12)


@st.composite
def _entries(draw: st.DrawFn) -> LedgerEntry:
    return LedgerEntry(
        draw(st.floats(allow_nan=False)),
        draw(st.floats(allow_nan=False)),
        draw(st.text(max_size=12)),
        draw(st.sampled_from(["outbound", "inbound"])),
        draw(st.text(max_size=12)),
        draw(st.text(max_size=12)),
        draw(st.text(max_size=12)),
        draw(st.integers(0, 2**40)),
        draw(OPTIONAL_TEXT),
        draw(OPTIONAL_TEXT),
        draw(OPTIONAL_TEXT),
        draw(st.none() | st.floats(allow_nan=False)),
        draw(OPTIONAL_TEXT),
        draw(st.text(max_size=12)),
        draw(st.sampled_from(["service", "marketing", "utility", "authentication"])),
        draw(st.none() | st.booleans()),
        draw(st.none() | st.sampled_from(["regular", "free_customer_service"])),
        draw(st.none() | st.integers(0, 2**31 - 1)),
    )


@given(st.lists(_entries(), max_size=30))
@settings(max_examples=200, deadline=None)
def test_the_spill_builds_the_table_by_columns_as_it_did_by_rows(entries: list[LedgerEntry]) -> None:
    try:
        expected = _table([entry.row() for entry in entries])
    except (pa.ArrowInvalid, UnicodeEncodeError):  # a lone surrogate: neither way can write it
        with pytest.raises((pa.ArrowInvalid, UnicodeEncodeError)):
            _entries_table(entries)
        return
    assert _entries_table(entries).equals(expected)
