"""What every built-in dialect shares: auth headers, timeouts, capability checks and body encoders."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel

from ground.registry import Registry
from harness.adapters.base import (
    Adapter,
    AgentOffline,
    AgentOnline,
    AgentReply,
    AssignConversation,
    BroadcastSegment,
    Call,
    CloseConversation,
    Health,
    HttpRequest,
    HttpResponse,
    Operation,
    Outcome,
    ReadInbox,
    SearchConversations,
    SendMedia,
    SendTemplate,
    SendText,
    TagContact,
    UnsupportedOperation,
    UploadMedia,
    json_body,
)
from harness.config.profiles import AuthConfig, VendorProfile
from plan.numbers import BusinessNumber


@dataclass(frozen=True)
class Credentials:
    """Secret values read from the environment (see ``ground.secrets.read_secret``); never printed."""

    token: str | None = None
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        return "Credentials([redacted])"


def auth_headers(auth: AuthConfig, credentials: Credentials, *, raw_token: bool = False) -> dict[str, str]:
    if auth.scheme == "bearer" and credentials.token:
        return {"Authorization": credentials.token if raw_token else f"Bearer {credentials.token}"}
    if auth.scheme == "header" and credentials.token and auth.header:
        return {auth.header: credentials.token}
    if auth.scheme == "basic" and credentials.username is not None and credentials.password is not None:
        pair = f"{credentials.username}:{credentials.password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    return {}


def encode_form(fields: Mapping[str, str]) -> tuple[bytes, str]:
    return urlencode(list(fields.items())).encode("ascii"), "application/x-www-form-urlencoded"


def encode_multipart(
    fields: Mapping[str, str], file_field: str, filename: str, content: bytes, mime_type: str
) -> tuple[bytes, str]:
    """multipart/form-data encoded here, so every executor (even FastHttpSession, which has no files=) can send it."""
    boundary = "scrmbench" + secrets.token_hex(12)
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    safe_name = filename.replace('"', "").replace("\r", "").replace("\n", "")
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{safe_name}"\r\n'
        f"Content-Type: {mime_type}\r\n\r\n".encode()
    )
    parts.append(content)
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


AdapterFactory = Callable[[VendorProfile, Credentials, Any], Adapter]


@dataclass(frozen=True)
class AdapterSpec:
    """A registry entry: how to build the adapter, its options model, what it can do and how it authenticates."""

    name: str
    factory: AdapterFactory
    options_model: type[BaseModel]
    operations: frozenset[str]
    auth_schemes: frozenset[str]
    summary: str


# Every adapter module registers itself here (``ADAPTERS.add(name, AdapterSpec(...))`` at its end);
# ``harness.adapters.registry`` imports the built-in ones.
ADAPTERS: Registry[AdapterSpec] = Registry("adapter", message="no adapter has this name", fix="use one of {names}")


class DialectBase:
    """Dispatch, auth and timeouts; subclasses implement the operations they support and ``interpret``."""

    name = "base"
    supported: frozenset[str] = frozenset()

    def __init__(self, profile: VendorProfile, credentials: Credentials) -> None:
        self.profile = profile
        self.capabilities: frozenset[str] = frozenset(profile.capabilities.operations) & self.supported
        self._auth = auth_headers(profile.auth, credentials)

    def check(self, call: Call) -> None:
        """Refuse an operation the profile does not declare or the dialect does not have."""
        if call.operation not in self.capabilities:
            raise UnsupportedOperation(
                f"the '{self.name}' adapter of profile '{self.profile.name}' does not offer this operation",
                field="capabilities.operations",
                value=call.operation,
                fix=f"use one of {sorted(self.capabilities)} or add it to the profile if the vendor has it",
            )

    def build(self, call: Call) -> HttpRequest:
        self.check(call)
        # Each operation has a method of the same name (send_text, agent_inbox, ...), refusing by default.
        method: Callable[[Any], HttpRequest] = getattr(self, call.operation)
        return method(call)

    def request(
        self,
        call: Call,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes = b"",
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        merged: dict[str, str] = {"Accept": "application/json", **self._auth, **(headers or {})}
        if json is not None:
            body, content_type = json_body(json), "application/json"
        if content_type:
            merged["Content-Type"] = content_type
        return HttpRequest(
            operation=call.operation,
            method=method,
            path=path,
            headers=merged,
            body=body,
            timeout=self.profile.timeouts.for_operation(call.operation),
            correlation_id=call.correlation_id,
        )

    def from_number(self, call: Call) -> BusinessNumber:
        """The business number a send goes out from: the call's ``sender``, else the profile's first number."""
        sender = getattr(call, "sender", None)
        return sender if isinstance(sender, BusinessNumber) else self.profile.phone.business_number()

    def unsupported(self, operation: Operation, why: str) -> UnsupportedOperation:
        return UnsupportedOperation(
            why, field="capabilities.operations", value=operation, fix="remove the operation from the profile"
        )

    def send_text(self, call: SendText) -> HttpRequest:
        raise self.unsupported(call.operation, f"{self.name} has no text send")

    def send_template(self, call: SendTemplate) -> HttpRequest:
        raise self.unsupported(call.operation, f"{self.name} has no template send")

    def send_media(self, call: SendMedia) -> HttpRequest:
        raise self.unsupported(call.operation, f"{self.name} has no media send")

    def upload_media(self, call: UploadMedia) -> HttpRequest:
        raise self.unsupported(call.operation, f"{self.name} has no standalone media upload")

    def search_conversations(self, call: SearchConversations) -> HttpRequest:
        raise self.unsupported(call.operation, f"{self.name} has no conversation search")

    def assign_conversation(self, call: AssignConversation) -> HttpRequest:
        raise self.unsupported(call.operation, f"{self.name} has no conversation assignment")

    def health(self, call: Health) -> HttpRequest:
        raise self.unsupported(call.operation, f"{self.name} has no health check")

    def agent_online(self, call: AgentOnline) -> HttpRequest:
        raise self.unsupported(call.operation, f"{self.name} has no agent presence")

    def agent_offline(self, call: AgentOffline) -> HttpRequest:
        raise self.unsupported(call.operation, f"{self.name} has no agent presence")

    def agent_inbox(self, call: ReadInbox) -> HttpRequest:
        raise self.unsupported(call.operation, f"{self.name} has no agent inbox")

    def agent_reply(self, call: AgentReply) -> HttpRequest:
        raise self.unsupported(call.operation, f"{self.name} has no reply as an agent")

    def close_conversation(self, call: CloseConversation) -> HttpRequest:
        raise self.unsupported(call.operation, f"{self.name} has no conversation close")

    def tag_contact(self, call: TagContact) -> HttpRequest:
        raise self.unsupported(call.operation, f"{self.name} has no contact tags")

    def broadcast_segment(self, call: BroadcastSegment) -> HttpRequest:
        raise self.unsupported(call.operation, f"{self.name} has no broadcast to a tag segment")

    def interpret(self, request: HttpRequest, response: HttpResponse) -> Outcome:  # pragma: no cover - abstract
        raise NotImplementedError
