"""Property tests (hypothesis) for send-body validation: total on any JSON, exact limits, token extraction."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ground.correlation import find_token_in, make_token
from mocks.whatsapp.errors import GraphError
from mocks.whatsapp.validation import MAX_TEXT, _parse_plain_text, parse_send, parse_send_full

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)
KEYS = st.sampled_from(
    ["messaging_product", "to", "recipient", "type", "text", "image", "template", "interactive", "status", "context"]
)
NEAR_VALID = st.fixed_dictionaries(
    {"messaging_product": st.sampled_from(["whatsapp", "sms", None])},
    optional={"to": st.text(max_size=16) | st.integers(), "type": st.text(max_size=12)},
).flatmap(lambda base: st.dictionaries(KEYS, JSON, max_size=4).map(lambda extra: {**extra, **base}))


@given(st.one_of(JSON, NEAR_VALID))
@settings(max_examples=400, deadline=None)
def test_validation_is_total_it_accepts_or_raises_a_graph_error(body: Any) -> None:
    try:
        parse_send(body)
    except GraphError as error:
        assert error.code in {100, 131008, 131009}
        assert error.details


@given(st.integers(min_value=0, max_value=MAX_TEXT + 50))
def test_text_length_limit_is_exact(length: int) -> None:
    body = {"messaging_product": "whatsapp", "to": "4915112345678", "type": "text", "text": {"body": "x" * length}}
    if 1 <= length <= MAX_TEXT:
        assert parse_send(body).type == "text"
    else:
        try:
            parse_send(body)
        except GraphError as error:
            assert error.code == (131008 if length == 0 else 100)
        else:
            raise AssertionError(f"a text of {length} characters was accepted")


@given(st.integers(min_value=0, max_value=6))
def test_reply_buttons_are_one_to_three(count: int) -> None:
    buttons = [{"type": "reply", "reply": {"id": f"b{i}", "title": f"t{i}"}} for i in range(count)]
    body = {
        "messaging_product": "whatsapp",
        "to": "4915112345678",
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": "pick"}, "action": {"buttons": buttons}},
    }
    try:
        parse_send(body)
        accepted = True
    except GraphError:
        accepted = False
    assert accepted == (1 <= count <= 3)


PLACES = st.sampled_from(["text", "caption", "template", "opaque", "button_body"])


@given(
    place=PLACES,
    tag=st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz", min_size=6, max_size=6),
    worker=st.integers(0, 1023),
    sequence=st.integers(0, 2**40),
    prefix=st.text(max_size=30).filter(lambda text: "sb-" not in text),
)
def test_the_token_is_found_wherever_the_harness_puts_it(
    place: str, tag: str, worker: int, sequence: int, prefix: str
) -> None:
    token = make_token(tag, worker, sequence)
    carried = f"{prefix} {token} end"
    body: dict[str, Any] = {"messaging_product": "whatsapp", "to": "4915112345678"}
    if place == "text":
        body |= {"type": "text", "text": {"body": carried}}
    elif place == "caption":
        body |= {"type": "image", "image": {"link": "https://example.com/a.png", "caption": carried}}
    elif place == "template":
        parameters = [{"type": "text", "text": "Ann"}, {"type": "text", "text": carried}]
        template = {"name": "t", "language": {"code": "en"}, "components": [{"type": "body", "parameters": parameters}]}
        body |= {"type": "template", "template": template}
    elif place == "opaque":
        body |= {"type": "text", "text": {"body": prefix or "hi"}, "biz_opaque_callback_data": token}
    else:
        body |= {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": carried},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]},
            },
        }
    assert find_token_in(parse_send(body).texts) == token


# The one-pass text path (_parse_plain_text) against the full validator: bodies near a plain text send, each
# field drawn from valid values, wrong types, nulls and absence, so both the fast path and its fallbacks run.
def _verdict(parse: Any, body: Any) -> tuple[str, Any]:
    try:
        return "ok", parse(body)
    except GraphError as error:
        return "error", (error.code, error.details)


MAYBE = st.none() | st.booleans() | st.integers(-2, 2) | st.text(max_size=6)
TEXT_NODE = st.fixed_dictionaries(
    {},
    optional={
        "body": st.sampled_from(["", "hi", "x" * MAX_TEXT, "x" * (MAX_TEXT + 1), "sb-abc123-2bk4 is here"]) | MAYBE,
        "preview_url": st.booleans() | MAYBE,
    },
)
NEAR_TEXT = st.fixed_dictionaries(
    {},
    optional={
        "messaging_product": st.sampled_from(["whatsapp", "sms"]) | st.none(),
        "recipient_type": st.sampled_from(["individual", "group"]) | st.none(),
        "to": st.sampled_from(["4915112345678", "+4915112345678", "US.13491208655302741918"]) | MAYBE,
        "recipient": st.sampled_from(["US.13491208655302741918"]) | MAYBE,
        "type": st.sampled_from(["text", "image", "reaction"]) | MAYBE,
        "text": TEXT_NODE | MAYBE,
        "status": st.sampled_from(["read"]) | st.none(),
        "context": st.fixed_dictionaries({"message_id": st.sampled_from(["wamid.x"]) | MAYBE}) | MAYBE,
        "biz_opaque_callback_data": st.sampled_from(["sb-abc123-2bk4", "o" * 513]) | MAYBE,
    },
)


@given(NEAR_TEXT)
@settings(max_examples=1500, deadline=None)
def test_the_fast_text_path_agrees_with_the_full_validator(body: dict[str, Any]) -> None:
    fast = _verdict(_parse_plain_text, body)
    if fast == ("ok", None):  # not a plain text send: the full validator decides alone
        return
    assert fast == _verdict(parse_send_full, body)


def test_the_fast_text_path_takes_the_common_send() -> None:
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "4915112345678",
        "type": "text",
        "text": {"preview_url": False, "body": "Your order sb-abc123-2bk4 has shipped."},
    }
    taken = _parse_plain_text(body)
    assert taken is not None and taken == parse_send_full(body) == parse_send(body)
