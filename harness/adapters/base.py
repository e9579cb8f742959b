"""The adapter seam: what an operation asks for, the HTTP request that carries it, and the typed outcome.

Adapters are sans-IO. ``adapter.build(call)`` turns a call (``SendText``, ``UploadMedia``, ...) into an
``HttpRequest`` (method, path, headers, encoded body, timeout); an executor sends it (httpx for
``vendors check`` and tests, Locust's own clients under load, so timing flows through ``events.request``);
``adapter.interpret(request, response)`` turns the answer into an ``Outcome`` and never raises for anything a
vendor says. Keeping I/O out of the adapters lets the same dialect code run in gevent, asyncio and unit tests.

Executors never follow a redirect and hand every answer to :func:`interpret_answer`: a 3xx is the vendor's
answer, recorded as an ``http`` error naming where it pointed, so the load never goes to a host the target
check did not allow (it checks the profile's ``base_url`` once, before the first request).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit

import orjson

from ground.errors import ConfigError
from ground.secrets import redact_headers

# The operation names live on the plan floor; adapters and their callers may keep reading them from here.
from plan.numbers import BusinessNumber
from plan.operations import MUTATING as MUTATING
from plan.operations import OPERATIONS as OPERATIONS
from plan.operations import Operation as Operation

Result = Literal["ok", "failed", "indeterminate"]
ErrorKind = Literal["none", "http", "body", "timeout", "transport"]
MediaKind = Literal["image", "document", "video", "audio"]


@dataclass(frozen=True, slots=True)
class SendText:
    to: str
    text: str
    correlation_id: str | None = None
    sender: BusinessNumber | None = None  # the business number to send from; None: the profile's first
    operation: Operation = "send_text"


@dataclass(frozen=True, slots=True)
class SendTemplate:
    to: str
    template: str
    language: str = "en_US"
    params: tuple[str, ...] = ()
    correlation_id: str | None = None
    sender: BusinessNumber | None = None  # the business number to send from; None: the profile's first
    operation: Operation = "send_template"


@dataclass(frozen=True, slots=True)
class SendMedia:
    to: str
    kind: MediaKind = "image"
    media_id: str | None = None
    link: str | None = None
    caption: str = ""
    filename: str | None = None
    correlation_id: str | None = None
    # The file itself, for dialects that send files with the message (WATI) rather than by id or link.
    content: bytes | None = None
    mime_type: str = "image/jpeg"
    sender: BusinessNumber | None = None  # the business number to send from; None: the profile's first
    operation: Operation = "send_media"


@dataclass(frozen=True, slots=True)
class UploadMedia:
    content: bytes
    mime_type: str = "image/jpeg"
    filename: str = "upload.jpg"
    correlation_id: str | None = None
    sender: BusinessNumber | None = None  # the business number to send from; None: the profile's first
    operation: Operation = "upload_media"


@dataclass(frozen=True, slots=True)
class SearchConversations:
    query: str = ""
    limit: int = 20
    correlation_id: str | None = None
    operation: Operation = "search_conversations"


@dataclass(frozen=True, slots=True)
class AssignConversation:
    conversation_id: str
    agent: str
    correlation_id: str | None = None
    operation: Operation = "assign_conversation"


@dataclass(frozen=True, slots=True)
class Health:
    correlation_id: str | None = None
    operation: Operation = "health"


@dataclass(frozen=True, slots=True)
class AgentOnline:
    """An agent comes online (presence), with the skills routing may use and its concurrency cap."""

    agent: str
    skills: tuple[str, ...] = ()
    cap: int = 6
    correlation_id: str | None = None
    operation: Operation = "agent_online"


@dataclass(frozen=True, slots=True)
class AgentOffline:
    agent: str
    correlation_id: str | None = None
    operation: Operation = "agent_offline"


@dataclass(frozen=True, slots=True)
class ReadInbox:
    """The conversations assigned to ``agent`` since ``cursor`` (the vendor's opaque cursor; "" from the start).

    The outcome's ``data``: ``items`` (each an :class:`InboxItem` as a dict) and ``cursor`` (the next one)."""

    agent: str
    cursor: str = ""
    limit: int = 50
    correlation_id: str | None = None
    operation: Operation = "agent_inbox"


@dataclass(frozen=True, slots=True)
class AgentReply:
    """A reply typed by ``agent`` in a conversation; the text carries the customer's correlation token."""

    agent: str
    conversation_id: str
    to: str
    text: str
    correlation_id: str | None = None
    operation: Operation = "agent_reply"


@dataclass(frozen=True, slots=True)
class CloseConversation:
    agent: str
    conversation_id: str
    correlation_id: str | None = None
    operation: Operation = "close_conversation"


@dataclass(frozen=True, slots=True)
class TagContact:
    to: str
    tag: str
    correlation_id: str | None = None
    operation: Operation = "tag_contact"


@dataclass(frozen=True, slots=True)
class BroadcastSegment:
    """A template broadcast to every contact with ``tag``; the token rides as the last template parameter, so
    each copy in the ledger says which broadcast it belongs to."""

    tag: str
    template: str
    language: str = "en_US"
    params: tuple[str, ...] = ()
    correlation_id: str | None = None
    operation: Operation = "broadcast_segment"


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One assignment as an inbox read reports it (``ReadInbox``'s items, as dicts).

    ``assigned_at`` is the vendor's own time of the assignment (Unix seconds), None when the dialect does not say;
    ``text`` is the customer's opening message (it carries the customer's correlation token)."""

    conversation_id: str
    customer: str
    text: str = ""
    assigned_at: float | None = None


Call = (
    SendText
    | SendTemplate
    | SendMedia
    | UploadMedia
    | SearchConversations
    | AssignConversation
    | Health
    | AgentOnline
    | AgentOffline
    | ReadInbox
    | AgentReply
    | CloseConversation
    | TagContact
    | BroadcastSegment
)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """Everything an executor needs to send one request; the body is already encoded so bytes are exact."""

    operation: Operation
    method: str
    path: str  # path and query, relative to the profile's base_url
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    timeout: float = 10.0
    correlation_id: str | None = None

    def __repr__(self) -> str:
        # Requests end up in logs and debug output; never print an Authorization or API-key header.
        return (
            f"HttpRequest({self.operation} {self.method} {self.path} headers={redact_headers(self.headers)} "
            f"body={len(self.body)} bytes timeout={self.timeout})"
        )


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The parsed body, or None when it is not JSON (a vendor's HTML error page, an empty 204)."""
        try:
            return orjson.loads(self.body) if self.body else None
        except orjson.JSONDecodeError:
            return None


@dataclass(frozen=True, slots=True)
class TransportFailure:
    """No HTTP answer: ``maybe_sent`` says whether the request may have reached the vendor."""

    kind: Literal["timeout", "transport"]
    detail: str
    maybe_sent: bool


@dataclass(frozen=True, slots=True)
class Outcome:
    operation: str
    result: Result
    http_status: int = 0
    error_kind: ErrorKind = "none"
    error_code: str | None = None
    error_text: str | None = None
    vendor_message_id: str | None = None
    correlation_id: str | None = None
    bytes_sent: int = 0
    bytes_received: int = 0
    latency_ms: float | None = None
    data: Mapping[str, Any] = field(default_factory=dict)  # e.g. media_id, total

    @property
    def ok(self) -> bool:
        return self.result == "ok"


class UnsupportedOperation(ConfigError):
    """The profile asked for an operation its adapter (or vendor) does not offer."""


class Adapter(Protocol):
    """One vendor dialect: builds requests and reads answers; no I/O."""

    name: str
    capabilities: frozenset[str]

    def build(self, call: Call) -> HttpRequest: ...

    def interpret(self, request: HttpRequest, response: HttpResponse) -> Outcome: ...


def with_token(text: str, token: str | None) -> str:
    """``text`` carrying the correlation token once, at the end where templates and humans mind it least."""
    if not token or token in text:
        return text
    return f"{text} {token}" if text else token


def params_with_token(params: tuple[str, ...], token: str | None) -> tuple[str, ...]:
    if not token or any(token in param for param in params):
        return params
    return (*params, token)


def json_body(data: Any) -> bytes:
    return orjson.dumps(data)


def http_failure_result(operation: str, status: int) -> Result:
    """Non-2xx: a gateway error or a 500 may hide a send that happened; a 4xx or a shed 503 did not."""
    if operation in MUTATING and status in (500, 502, 504):
        return "indeterminate"
    return "failed"


def transport_outcome(request: HttpRequest, failure: TransportFailure, *, latency_ms: float | None = None) -> Outcome:
    """The outcome of a request that got no HTTP answer."""
    result: Result = "indeterminate" if failure.maybe_sent and request.operation in MUTATING else "failed"
    return Outcome(
        operation=request.operation,
        result=result,
        error_kind=failure.kind,
        error_code=failure.kind,
        error_text=failure.detail,
        correlation_id=request.correlation_id,
        bytes_sent=len(request.body),
        latency_ms=latency_ms,
    )


def outcome(
    request: HttpRequest,
    response: HttpResponse,
    *,
    ok: bool,
    error_code: str | None = None,
    error_text: str | None = None,
    vendor_message_id: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> Outcome:
    """Build an outcome from an answered request; ``ok`` is the dialect's verdict on it."""
    if ok:
        result: Result = "ok"
        kind: ErrorKind = "none"
    elif 200 <= response.status < 300:
        result, kind = "failed", "body"
    else:
        result, kind = http_failure_result(request.operation, response.status), "http"
    return Outcome(
        operation=request.operation,
        result=result,
        http_status=response.status,
        error_kind=kind,
        error_code=None if ok else (error_code or str(response.status)),
        error_text=None if ok else (error_text or _short(response.body)),
        vendor_message_id=vendor_message_id,
        correlation_id=request.correlation_id,
        bytes_sent=len(request.body),
        bytes_received=len(response.body),
        data=data or {},
    )


def interpret_answer(adapter: Adapter, request: HttpRequest, response: HttpResponse, url: str) -> Outcome:
    """The outcome of an answered request to ``url``: a 3xx is never followed, any other answer is the dialect's."""
    if 300 <= response.status < 400:
        return redirect_outcome(request, response, url)
    return adapter.interpret(request, response)


def redirect_outcome(request: HttpRequest, response: HttpResponse, url: str) -> Outcome:
    """A 3xx recorded as the vendor's answer (failed, ``http``), its text naming the host it pointed to."""
    location = next((str(v) for k, v in response.headers.items() if str(k).lower() == "location"), "")
    return outcome(
        request,
        response,
        ok=False,
        error_code=str(response.status),
        error_text=f"redirect {response.status} {redirect_target(location, url)} not followed "
        "(the load only goes to allowed targets)",
    )


def redirect_target(location: str, url: str) -> str:
    """``to HOST:PORT`` of a ``Location`` (relative ones resolved against ``url``), or why there is none."""
    if not location.strip():
        return "without a Location"
    try:
        parts = urlsplit(urljoin(url, location.strip()))
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return f"to an unreadable Location {location[:100]!r}"
    if not host:
        return f"to an unreadable Location {location[:100]!r}"
    host = f"[{host}]" if ":" in host else host
    return f"to {host}:{port}" if port else f"to {host}"


def _short(body: bytes, limit: int = 300) -> str:
    return body[:limit].decode("utf-8", errors="replace")


def text_or_none(value: Any) -> str | None:
    """A JSON value read from an answer as text (an id may come as a number); None stays None."""
    return None if value is None else str(value)


def dig(data: Any, path: str) -> Any:
    """Follow a dotted path with list indexes (``messages[0].id``, ``$.sid``) through parsed JSON; None if absent."""
    node = data
    cleaned = path.removeprefix("$").removeprefix(".")
    if not cleaned:
        return node
    for part in cleaned.replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("[") and part.endswith("]"):
            if not isinstance(node, list):
                return None
            try:
                node = node[int(part[1:-1])]
            except (ValueError, IndexError):
                return None
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return None
    return node


def inbox_items(
    raw: Any, *, conversation: str, customer: str, text: str = "text", assigned_at: str = "assigned_at"
) -> list[dict[str, Any]]:
    """An inbox answer's items as ``InboxItem`` dicts; items without a conversation id are left out."""
    items = []
    for row in raw if isinstance(raw, list) else []:
        conversation_id = dig(row, conversation)
        if conversation_id is None:
            continue
        at = dig(row, assigned_at) if assigned_at else None
        try:
            when = None if at is None else float(at)
        except (TypeError, ValueError):
            when = None
        item = InboxItem(str(conversation_id), str(dig(row, customer) or ""), str(dig(row, text) or ""), when)
        items.append({"conversation_id": item.conversation_id, "customer": item.customer, "text": item.text,
                      "assigned_at": item.assigned_at})  # fmt: skip
    return items
