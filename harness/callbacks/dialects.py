"""How each vendor dialect reports what became of a message, read sans-IO: bytes and headers in, events out.

A dialect checks a callback's signature (``verify``) and turns its body into ``VendorEvent`` rows (``parse``),
raising ``Malformed`` for a body it cannot read. No I/O here: the receiver (``harness.callbacks.receiver``) does
the HTTP, the rate limit and the recording, so every dialect is tested with plain bytes.

    twilio     form POSTs of a StatusCallback (MessageSid, MessageStatus, ErrorCode, ...), X-Twilio-Signature:
               base64 HMAC-SHA1 keyed by the auth token of the full URL followed by each parameter name and value
               in name order (twilio.com/docs/usage/webhooks/webhooks-security)
    cloud-api  Cloud-API-shaped JSON (``entry[].changes[].value.statuses[]`` / ``messages[]``) as Meta, 360dialog
               and other forwarders send it, X-Hub-Signature-256: ``sha256=`` hex HMAC-SHA256 of the exact body
    wati       WATI's JSON events (``eventType`` sentMessageDELIVERED, sentMessageREAD, ..., ``whatsappMessageId``,
               ``localMessageId``, ``timestamp``; docs.wati.io/reference/webhooks). WATI signs nothing: the
               per-run secret path is the guard, plus an optional shared header (``options.header``)
    generic    a declarative mapping (``options``): where the id, the status and the error code are in the JSON body,
               how the vendor's status words map to ours, and an optional HMAC-SHA256 header

Each dialect registers itself in ``DIALECTS`` where it is defined.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ground.correlation import find_token
from ground.errors import ConfigError
from ground.records import VENDOR_EVENT_COLUMNS
from ground.registry import Registry

Status = Literal["queued", "sent", "delivered", "read", "failed", "inbound", "other"]


class Malformed(ValueError):
    """A callback body the dialect cannot read (answered 400 and counted, never recorded)."""


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """One callback POST as the receiver got it. ``url`` is the URL the vendor was told (the public one behind a
    tunnel), which is what Twilio signs."""

    url: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    content_type: str = ""


@dataclass(frozen=True, slots=True)
class VendorEvent:
    received_at: float
    dialect: str
    vendor_message_id: str | None
    status: Status
    vendor_status: str
    reported_at: float | None = None
    correlation_id: str | None = None
    error_code: str | None = None
    recipient: str | None = None

    def row(self) -> tuple[Any, ...]:
        """The event in ``VENDOR_EVENT_SCHEMA`` column order."""
        return tuple(getattr(self, name) for name in VENDOR_EVENT_COLUMNS)


class Dialect(Protocol):
    name: str

    def verify(self, request: CallbackRequest, secret: str | None) -> bool: ...

    def parse(self, request: CallbackRequest, received_at: float) -> list[VendorEvent]: ...


def _epoch(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number / 1000.0 if number > 1e11 else number  # milliseconds from some vendors


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Malformed(f"the body is not JSON ({exc})") from None


def hmac_sha256_header(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def twilio_signature(secret: str, url: str, params: Mapping[str, str]) -> str:
    data = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()).decode()


def _equal(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


# ---- Twilio ---------------------------------------------------------------------------------------------------

TWILIO_STATUSES: dict[str, Status] = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "undelivered": "failed",
    "canceled": "failed",
    "receiving": "inbound",
    "received": "inbound",
}


class TwilioDialect:
    name = "twilio"

    @staticmethod
    def _form(request: CallbackRequest) -> dict[str, str]:
        try:
            pairs = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(request.body))
        except (UnicodeDecodeError, ValueError) as exc:
            raise Malformed(f"the body is not a form ({exc})") from None
        return dict(pairs)

    def verify(self, request: CallbackRequest, secret: str | None) -> bool:
        if not secret:
            return False
        try:
            params = self._form(request)
        except Malformed:
            return False
        return _equal(twilio_signature(secret, request.url, params), request.headers.get("x-twilio-signature"))

    def parse(self, request: CallbackRequest, received_at: float) -> list[VendorEvent]:
        form = self._form(request)
        sid = form.get("MessageSid") or form.get("SmsSid")
        raw = form.get("MessageStatus") or form.get("SmsStatus")
        if not sid or not raw:
            raise Malformed("a Twilio status callback needs MessageSid and MessageStatus")
        status = TWILIO_STATUSES.get(raw.lower(), "other")
        return [
            VendorEvent(
                received_at,
                self.name,
                sid,
                status,
                raw,
                correlation_id=find_token(form.get("Body")),
                error_code=form.get("ErrorCode") or None,
                recipient=(form.get("To") or "").removeprefix("whatsapp:") or None,
            )
        ]


# ---- Cloud API shape (Meta, 360dialog, other forwarders) --------------------------------------------------------

CLOUD_STATUSES: dict[str, Status] = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed"}


class CloudApiDialect:
    name = "cloud-api"

    def verify(self, request: CallbackRequest, secret: str | None) -> bool:
        return bool(secret) and _equal(
            hmac_sha256_header(str(secret), request.body), request.headers.get("x-hub-signature-256")
        )

    def parse(self, request: CallbackRequest, received_at: float) -> list[VendorEvent]:
        payload = _json(request.body)
        if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
            raise Malformed("a Cloud API webhook needs an 'entry' list")
        events: list[VendorEvent] = []
        try:
            values = [change["value"] for entry in payload["entry"] for change in entry.get("changes", [])]
            for value in values:
                for status in value.get("statuses") or []:
                    raw = str(status["status"])
                    errors = status.get("errors") or [{}]
                    code = errors[0].get("code") if isinstance(errors[0], dict) else None
                    events.append(
                        VendorEvent(
                            received_at,
                            self.name,
                            str(status["id"]),
                            CLOUD_STATUSES.get(raw, "other"),
                            raw,
                            reported_at=_epoch(status.get("timestamp")),
                            correlation_id=find_token(status.get("biz_opaque_callback_data")),
                            error_code=None if code is None else str(code),
                            recipient=status.get("recipient_id"),
                        )
                    )
                for message in value.get("messages") or []:
                    events.append(
                        VendorEvent(
                            received_at,
                            self.name,
                            str(message["id"]),
                            "inbound",
                            str(message.get("type", "message")),
                            reported_at=_epoch(message.get("timestamp")),
                            recipient=message.get("from"),
                        )
                    )
        except (KeyError, TypeError, AttributeError) as exc:
            raise Malformed(f"a status or message lacks a field ({type(exc).__name__}: {exc})") from None
        return events


# ---- WATI ------------------------------------------------------------------------------------------------------

WATI_EVENTS: dict[str, Status] = {
    "templatemessagesent": "sent",
    "sessionmessagesent": "sent",
    "sentmessagesent": "sent",
    "sentmessagedelivered": "delivered",
    "sentmessageread": "read",
    "sentmessagereplied": "read",
    "templatemessagefailed": "failed",
    "sentmessagefailed": "failed",
    "message": "inbound",
    "messagereceived": "inbound",
}


class WatiOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    header: str | None = None  # a header WATI is configured to send with the secret as its value


class WatiDialect:
    name = "wati"

    def __init__(self, options: WatiOptions | None = None) -> None:
        self.options = options or WatiOptions()

    def verify(self, request: CallbackRequest, secret: str | None) -> bool:
        if self.options.header is None:
            return True  # WATI signs nothing; the run's secret path is the guard
        return bool(secret) and _equal(str(secret), request.headers.get(self.options.header.lower()))

    def parse(self, request: CallbackRequest, received_at: float) -> list[VendorEvent]:
        payload = _json(request.body)
        if not isinstance(payload, dict) or not payload.get("eventType"):
            raise Malformed("a WATI webhook needs an 'eventType'")
        raw = str(payload["eventType"])
        key = raw.lower().removesuffix("_v2")
        message_id = payload.get("whatsappMessageId") or payload.get("localMessageId") or payload.get("id")
        if not message_id:
            raise Malformed("a WATI webhook needs whatsappMessageId, localMessageId or id")
        return [
            VendorEvent(
                received_at,
                self.name,
                str(message_id),
                WATI_EVENTS.get(key, "other"),
                raw,
                reported_at=_epoch(payload.get("timestamp")),
                correlation_id=find_token(payload.get("text")),
                error_code=None if payload.get("failedCode") is None else str(payload.get("failedCode")),
                recipient=payload.get("waId"),
            )
        ]


# ---- generic, declarative --------------------------------------------------------------------------------------


class GenericMapping(BaseModel):
    """``callbacks.options`` of the generic dialect: dotted paths into the JSON body (``data.items`` for a list of
    events, else the body is one event), and the vendor's status words mapped to ours."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    events: str | None = None  # path of a list of events; None: the body is one event
    id: str = Field(min_length=1)
    status: str = Field(min_length=1)
    status_map: dict[str, Status] = Field(min_length=1)
    timestamp: str | None = None
    correlation: str | None = None  # a field that may echo the token (a text, a metadata field)
    error_code: str | None = None
    recipient: str | None = None
    signature_header: str | None = None  # HMAC-SHA256 of the body, hex, optionally prefixed 'sha256='


def _dig(data: Any, path: str | None) -> Any:
    if path is None:
        return None
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


class GenericDialect:
    name = "generic"

    def __init__(self, mapping: GenericMapping) -> None:
        self.mapping = mapping

    def verify(self, request: CallbackRequest, secret: str | None) -> bool:
        header = self.mapping.signature_header
        if header is None:
            return True
        given = request.headers.get(header.lower())
        if not secret or not given:
            return False
        expected = hmac_sha256_header(secret, request.body)
        return _equal(expected, given) or _equal(expected.removeprefix("sha256="), given)

    def parse(self, request: CallbackRequest, received_at: float) -> list[VendorEvent]:
        payload = _json(request.body)
        items = _dig(payload, self.mapping.events) if self.mapping.events else [payload]
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise Malformed(f"no list of event objects at {self.mapping.events or 'the top level'}")
        events = []
        for item in items:
            message_id, raw = _dig(item, self.mapping.id), _dig(item, self.mapping.status)
            if message_id is None or raw is None:
                raise Malformed(f"an event lacks {self.mapping.id} or {self.mapping.status}")
            code = _dig(item, self.mapping.error_code)
            correlation = _dig(item, self.mapping.correlation)
            events.append(
                VendorEvent(
                    received_at,
                    self.name,
                    str(message_id),
                    self.mapping.status_map.get(str(raw), "other"),
                    str(raw),
                    reported_at=_epoch(_dig(item, self.mapping.timestamp)),
                    correlation_id=find_token(correlation if isinstance(correlation, str) else None),
                    error_code=None if code is None else str(code),
                    recipient=None
                    if _dig(item, self.mapping.recipient) is None
                    else str(_dig(item, self.mapping.recipient)),
                )
            )
        return events


# ---- the registry ----------------------------------------------------------------------------------------------


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class DialectSpec:
    build: Any  # (options: dict) -> Dialect, options validated by the dialect's own model
    summary: str


DIALECTS: Registry[DialectSpec] = Registry("callback dialect", field="callbacks.dialect")


def _twilio(options: dict[str, Any]) -> Dialect:
    NoOptions.model_validate(options)  # one shape, nothing to map
    return TwilioDialect()


def _cloud_api(options: dict[str, Any]) -> Dialect:
    NoOptions.model_validate(options)
    return CloudApiDialect()


DIALECTS.add("twilio", DialectSpec(_twilio, "Twilio StatusCallback form posts"))
DIALECTS.add("cloud-api", DialectSpec(_cloud_api, "Cloud-API-shaped JSON (Meta, 360dialog, forwarders)"))
DIALECTS.add("wati", DialectSpec(lambda options: WatiDialect(WatiOptions.model_validate(options)), "WATI JSON"))
DIALECTS.add(
    "generic", DialectSpec(lambda options: GenericDialect(GenericMapping.model_validate(options)), "a JSON mapping")
)


def create_dialect(name: str, options: Mapping[str, Any], *, source: str = "the vendor profile") -> Dialect:
    """The dialect ``name`` with its ``callbacks.options`` checked (a ``ConfigError`` names the field and the fix)."""
    spec = DIALECTS.get(name)
    try:
        dialect: Dialect = spec.build(dict(options))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"callbacks.options for the {name} dialect: {first['msg']}",
            source=source,
            field=f"callbacks.options.{field}",
            value=first.get("input"),
            fix="see docs/hosted-vendors.md, 'Dialects', for each dialect's options",
        ) from None
    return dialect
