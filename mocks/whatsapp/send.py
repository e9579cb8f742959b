"""``POST /{version}/{phone_number_id}/messages``: the mock's hot path, as a raw ASGI endpoint.

Measured with bench/mock_throughput.py: Starlette's ``Request``/``Response`` wrappers and pydantic cost more
than the mock's own work, so this endpoint reads the body and writes the answer through ASGI directly, validates
with hand-written checks (validation.py) and serialises with orjson. Errors are raised as ``GraphError`` and
rendered by the app's exception handler like everywhere else.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

from ground.correlation import find_token, find_token_in
from mocks.whatsapp.auth import check_token, token_from
from mocks.whatsapp.config import PricingConfig
from mocks.whatsapp.customers import is_bsuid
from mocks.whatsapp.errors import GraphError, unknown_object
from mocks.whatsapp.ledger import LedgerEntry
from mocks.whatsapp.media import check_fits
from mocks.whatsapp.shards import FORWARDED
from mocks.whatsapp.state import MockState
from mocks.whatsapp.validation import Send as Outbound
from mocks.whatsapp.validation import parse_send

_SUCCESS = orjson.dumps({"success": True})
_WINDOW_CLOSED = (
    "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
)


async def _rest_of_body(receive: Receive, first: bytes) -> bytes:
    """The body of a request that came in more than one message (the first one's body is ``first``)."""
    chunks = [first]
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def relay_raw(state: MockState, scope: Scope, body: bytes, send: Send, shard: int) -> None:
    """Forward this request to the shard that owns its phone number and pass its answer back unchanged."""
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
    if any(name == FORWARDED for name, _ in headers):
        raise GraphError(131000, f"request was forwarded to shard {state.shards.index}, which does not own it")
    answer = await state.shards.relay(
        shard, scope["method"], scope["path"], scope["query_string"], headers, body, FORWARDED
    )
    encoded = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers]
    encoded.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": encoded})
    await send({"type": "http.response.body", "body": answer.body})


_API_VERSION = b"facebook-api-version"


_JSON_TYPE = (b"content-type", b"application/json")


def _start(body: bytes, version: bytes | None) -> dict[str, object]:
    """The ``http.response.start`` of a 200 with ``body`` (the endpoint awaits both messages itself: one coroutine
    frame less per send)."""
    headers = [_JSON_TYPE, (b"content-length", b"%d" % len(body))]
    if version is not None:
        headers.append((_API_VERSION, version))
    return {"type": "http.response.start", "status": 200, "headers": headers}


class SendMessage:
    """A raw ASGI endpoint (a class, so Starlette's Route does not wrap it in Request/Response).

    It remembers the last ``Authorization`` header that passed and its token: the next request with the same
    header costs one comparison and one membership test (the token must still be among the configured ones), the
    same answer ``check_token`` would give, without parsing the header again.
    """

    __slots__ = ("_app", "_good_header", "_good_token", "_state")

    def __init__(self) -> None:
        self._good_header = b""
        self._good_token = ""
        self._app: object = None  # the app of the last request and its MockState (Starlette's State.__getattr__
        self._state: MockState | None = None  # is a Python call per attribute read: one per app instead)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The send path: token, version, number, body, validation, admission, the answer (one coroutine, with
        the body read and the answer written inline: each awaited helper coroutine costs a frame per send)."""
        app = scope["app"]
        state = self._state
        if app is not self._app or state is None:
            state = self._state = app.state.mock
            self._app = app
        self._check_token(state, scope)
        params = scope["path_params"]
        version = served_version(state, params)
        phone_number_id = str(params["phone_number_id"])
        if phone_number_id not in state.numbers:
            raise unknown_object(phone_number_id)
        message = await receive()
        raw: bytes = message.get("body", b"")
        if message.get("more_body", False):
            raw = await _rest_of_body(receive, raw)
        shards = state.shards
        if shards.active and shards.number_owner(phone_number_id) != shards.index:
            await relay_raw(state, scope, raw, send, shards.number_owner(phone_number_id))
            return
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise GraphError(100, "The request body could not be parsed as JSON.") from None
        outbound = parse_send(body)
        if outbound.kind != "message":
            answer = _SUCCESS  # mark-as-read and typing indicator
        else:
            entry = admit(state, phone_number_id, outbound, len(raw))
            state.accepted(entry)
            answer = accepted_body(entry, outbound)
        await send(_start(answer, version))
        await send({"type": "http.response.body", "body": answer})

    def _check_token(self, state: MockState, scope: Scope) -> None:
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
                break
        auth = state.config.auth
        if authorization is None or authorization != self._good_header or self._good_token not in auth.access_tokens:
            header = None if authorization is None else authorization.decode("latin-1")
            token = token_from(header, scope["query_string"])
            check_token(auth, token)
            if authorization is not None and token:
                self._good_header, self._good_token = authorization, token


# Graph's answer to an accepted send, for the common case (no BSUID in it): the three strings spliced into one
# frame instead of building three dicts and two lists for orjson. Only strings JSON writes unchanged are spliced
# (printable ASCII without quote or backslash); anything else goes through orjson. The same bytes as
# ``orjson.dumps(accepted_answer(...))``, checked on generated strings in tests/mocks/whatsapp/test_answer_frame.py.
_ACCEPTED_FRAME = (
    b'{"messaging_product":"whatsapp","contacts":[{"input":"%s","wa_id":"%s"}],'
    b'"messages":[{"id":"%s","message_status":"accepted"}]}'
)


def _splices(text: str) -> bool:
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def accepted_body(entry: LedgerEntry, outbound: Outbound) -> bytes:
    """The JSON bytes of ``accepted_answer(entry, outbound)``."""
    to = outbound.to
    # Every test of ``_splices`` is per character: the three strings pass when their concatenation does.
    if to is not None and outbound.recipient is None and not is_bsuid(to) and _splices(to + entry.wa_id + entry.wamid):
        return _ACCEPTED_FRAME % (to.encode(), entry.wa_id.encode(), entry.wamid.encode())
    return orjson.dumps(accepted_answer(entry, outbound))


def accepted_answer(entry: LedgerEntry, outbound: Outbound) -> dict[str, object]:
    """Graph's answer to an accepted send: the contact (with the BSUID when one was used) and the message id."""
    contact: dict[str, str] = {"input": outbound.to or outbound.recipient or "", "wa_id": entry.wa_id}
    if outbound.recipient is not None or is_bsuid(outbound.to or ""):
        contact["user_id"] = entry.user_id
    return {
        "messaging_product": "whatsapp",
        "contacts": [contact],
        "messages": [{"id": entry.wamid, "message_status": "accepted"}],
    }


def served_version(state: MockState, params: dict[str, Any]) -> bytes | None:
    """Resolve the path's ``v{major}.{minor}`` (versions.py: expired ones are served by the oldest usable version,
    unknown ones raise); the ``facebook-api-version`` header value, or None when that header is switched off."""
    major = params.get("major")
    if major is None:
        served = state.versions.newest(state.clock.now())
    else:
        minor = params["minor"]
        served = state.versions.serve(major, minor, state.clock.now())
        if served[0] != major or served[1] != minor:  # another version serves it: the full path notes that
            served = state.served_version(major, minor)
    if not state.config.versions.header:
        return None
    header = _VERSION_HEADERS.get(served)
    if header is None:
        header = _VERSION_HEADERS[served] = b"v%d.%d" % served
    return header


_VERSION_HEADERS: dict[tuple[int, int], bytes] = {}  # served version -> its header value, made once


def admit(state: MockState, phone_number_id: str, outbound: Outbound, size: int) -> LedgerEntry:
    """Apply identity, limiters, the customer window, templates and media checks; build the entry or raise."""
    clock = state.clock
    now, monotonic = clock.now(), clock.monotonic()
    customers = state.customers
    to = outbound.to
    by_bsuid = to is None or is_bsuid(to)
    customer = customers.resolve(to, outbound.recipient, to_is_bsuid=by_bsuid)
    wa_id = customer.wa_id
    async_error = None
    if customers.not_on_whatsapp_share > 0.0 and not customers.on_whatsapp(wa_id):
        if state.config.not_on_whatsapp_mode == "sync":
            raise GraphError(133010, f"Recipient {wa_id} is not a WhatsApp user.")
        async_error = 131026
    limiters = state.limiters
    limits = limiters.config
    if limits.enabled:
        limiters.check_send(phone_number_id, wa_id, monotonic)
    waba_id = state.numbers[phone_number_id].waba_id
    category = "service"
    window_open = customers.window_open(phone_number_id, wa_id, now)
    config = state.config
    identity = config.identity
    template = outbound.template
    if template is not None:
        category = _check_template(state, template)
        if by_bsuid and category in identity.bsuid_refused_categories:
            raise GraphError(
                identity.bsuid_refused_code,
                f"{category} templates cannot be sent to a business-scoped user id; send to the phone number",
            )
        if not window_open:
            limiters.check_reach(limiters.reach_key(phone_number_id), customer.user_id, now)
    elif not window_open and limits.enabled and limits.enforce_customer_window:
        raise GraphError(131047, _WINDOW_CLOSED)
    if outbound.media is not None:
        kind, media_id = outbound.media
        media = state.media.get(media_id, now)
        check_fits(kind, media.mime_type, len(media.data), media.data)
    billable, pricing_type = pricing_of(
        category, template=template is not None, window_open=window_open, config=config.pricing
    )
    texts = outbound.texts
    withheld = customers.note_exchange(
        customer,
        now,
        by_phone=not by_bsuid,
        withhold_after_days=identity.withhold_phone_after_days,
        usernames_only=identity.withhold_phone_for == "usernames",
    )
    # Positional, in the order of LedgerEntry's fields (_ENTRY_FIELDS, checked by tests/mocks/whatsapp/
    # test_messages.py): 21 keyword arguments cost ~0.7 µs more per send than the same values by position.
    return LedgerEntry(
        now,  # arrived_at
        monotonic,  # arrived_monotonic
        state.new_wamid(),  # wamid
        "outbound",  # direction
        phone_number_id,  # phone_number_id
        to or outbound.recipient or "",  # recipient
        outbound.type,  # type
        size,  # size_bytes
        find_token(texts[0]) if len(texts) == 1 else find_token_in(texts),  # correlation_id
        outbound.context_message_id,  # context_message_id
        None,  # reply_to_wamid
        None,  # inbound_delivered_at
        outbound.biz_opaque_callback_data,  # biz_opaque_callback_data
        wa_id,  # wa_id
        category,  # category
        billable,  # billable
        pricing_type,  # pricing_type
        async_error,  # async_error_code
        customer.user_id,  # user_id
        customers.parent_user_id(customer) if identity.parent_bsuid else None,  # parent_user_id
        withheld,  # phone_withheld
        waba_id,  # waba_id
    )


# The fields ``admit`` gives LedgerEntry by position, in order (the rest keep their defaults).
_ENTRY_FIELDS = (
    "arrived_at",
    "arrived_monotonic",
    "wamid",
    "direction",
    "phone_number_id",
    "recipient",
    "type",
    "size_bytes",
    "correlation_id",
    "context_message_id",
    "reply_to_wamid",
    "inbound_delivered_at",
    "biz_opaque_callback_data",
    "wa_id",
    "category",
    "billable",
    "pricing_type",
    "async_error_code",
    "user_id",
    "parent_user_id",
    "phone_withheld",
    "waba_id",
)


def pricing_of(category: str, *, template: bool, window_open: bool, config: PricingConfig) -> tuple[bool, str]:
    """(billable, pricing type) of an accepted message under per-message pricing (docs/whatsapp-2026.md §6):
    marketing and authentication templates are charged; a utility template inside an open customer service window
    and every non-template (service) message are free (``free_customer_service``). ``october_2026`` charges
    both (reported, unconfirmed). The mock has no free entry points (click-to-WhatsApp ads), so never
    ``free_entry_point``."""
    if config.october_2026:
        return True, "regular"
    if not template or (category == "utility" and window_open):
        return False, "free_customer_service"
    return True, "regular"


def _check_template(state: MockState, template: tuple[str, str, int]) -> str:
    """With templates configured, the name/language must exist (132001) and the body parameter count match."""
    if not state.templates:
        return "marketing"
    name, language, body_params = template
    known = state.templates.get((name, language))
    if known is None:
        raise GraphError(132001, f"template name ({name}) does not exist in {language}")
    if known.body_params != body_params:
        raise GraphError(
            132000,
            f"body: number of localizable_params ({body_params}) does not match the expected number of params "
            f"({known.body_params})",
        )
    return known.category
