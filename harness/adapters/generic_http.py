"""A declarative adapter for any vendor without a built-in one: each operation is described in the profile.

    options:
      operations:
        send_text:
          method: POST
          path: /v1/chats/{to_digits}/messages          # placeholders in {braces}
          json: {body: "{text}", ref: "{correlation_id}"}  # or form: {...}, or multipart: {file_field, fields}
          success: {status: [200, 201, 202], json_path: ok, equals: true}
          message_id: data.message.id                   # dotted path with [index]
          error_code: error.code
          error_text: error.message

Placeholders: to, to_digits, from, from_digits, phone_number_id (the sending number: the call's, else the
profile's first; a vendor that can choose the number gets one of them in its path, query or body), correlation_id,
text, template, language,
params (a whole JSON value "{params}" becomes the list), caption, media_id, link, kind, mime_type, filename,
query, limit, conversation_id, agent, cursor, skills, cap, tag. ``text`` and ``caption`` already carry the
correlation token (an agent's reply too), and ``params`` has it appended (a segment broadcast's too), so the token
reaches the vendor wherever the profile puts those.

An agent's inbox (``agent_inbox``) also says where its answer keeps the assignments and the next cursor:

        agent_inbox:
          method: GET
          path: /api/agents/{agent}/inbox
          query: {since: "{cursor}"}
          inbox:
            items: items                 # the list of assignments
            conversation_id: conversation_id
            customer: wa_id
            text: text                   # the customer's opening message (carries the correlation token)
            assigned_at: assigned_at     # the vendor's time of the assignment (Unix seconds); optional
            cursor: cursor               # the cursor of the next read
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.adapters.base import (
    OPERATIONS,
    AgentOnline,
    AgentReply,
    BroadcastSegment,
    Call,
    HttpRequest,
    HttpResponse,
    Operation,
    Outcome,
    SendMedia,
    SendTemplate,
    SendText,
    UploadMedia,
    dig,
    inbox_items,
    outcome,
    params_with_token,
    with_token,
)
from harness.adapters.common import ADAPTERS, AdapterSpec, Credentials, DialectBase, encode_form, encode_multipart

PLACEHOLDERS = frozenset(
    "to to_digits from from_digits phone_number_id correlation_id text template language params caption media_id "
    "link kind mime_type filename query limit conversation_id agent cursor skills cap tag".split()
)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SuccessRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: list[int] = Field(default_factory=lambda: [200, 201, 202], min_length=1)
    json_path: str | None = None  # this value in the answer must be truthy, or equal ``equals`` when given
    equals: str | int | bool | None = None

    @field_validator("status")
    @classmethod
    def _codes(cls, value: list[int]) -> list[int]:
        bad = [code for code in value if not 100 <= code <= 599]
        if bad:
            raise ValueError(f"HTTP status codes are 100..599, got {bad}")
        return value


class MultipartSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    file_field: str = "file"
    fields: dict[str, str] = Field(default_factory=dict)


class InboxSpec(BaseModel):
    """Where an ``agent_inbox`` answer keeps its assignments (dotted paths, as ``message_id``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    items: str = "items"
    conversation_id: str = "conversation_id"
    customer: str = "customer"
    text: str = "text"
    assigned_at: str | None = "assigned_at"
    cursor: str | None = "cursor"


class OperationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = Field(pattern=r"^/")  # relative to base_url: an absolute URL here would dodge the target check
    query: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    form: dict[str, str] | None = None
    multipart: MultipartSpec | None = None
    success: SuccessRule = SuccessRule()
    message_id: str | None = None
    media_id: str | None = None  # upload_media: where the new media id is
    error_code: str | None = None
    error_text: str | None = None
    inbox: InboxSpec | None = None  # agent_inbox: where the assignments and the next cursor are

    @model_validator(mode="after")
    def _one_body(self) -> OperationSpec:
        bodies = [name for name in ("json_body", "form", "multipart") if getattr(self, name) is not None]
        if len(bodies) > 1:
            raise ValueError(f"give at most one of json, form, multipart (found {', '.join(bodies)})")
        unknown = sorted(set(_placeholders(self.model_dump(by_alias=True))) - PLACEHOLDERS)
        if unknown:
            raise ValueError(f"unknown placeholder(s) {unknown}; known: {sorted(PLACEHOLDERS)}")
        return self


class GenericHttpOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    operations: dict[Operation, OperationSpec] = Field(min_length=1)


def _placeholders(data: Any) -> list[str]:
    if isinstance(data, str):
        return _PLACEHOLDER.findall(data)
    if isinstance(data, dict):
        return [name for value in data.values() for name in _placeholders(value)]
    if isinstance(data, list):
        return [name for value in data for name in _placeholders(value)]
    return []


def _fill(template: Any, values: dict[str, Any]) -> Any:
    """Substitute placeholders; a string that is exactly one placeholder keeps the value's JSON type."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            return values.get(whole.group(1), "")
        return _PLACEHOLDER.sub(lambda match: _text(values.get(match.group(1), "")), template)
    if isinstance(template, dict):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, values) for value in template]
    return template


def _text(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


class GenericHttpAdapter(DialectBase):
    name = "generic-http"
    supported = frozenset(OPERATIONS)

    def __init__(self, profile: Any, credentials: Credentials, options: GenericHttpOptions) -> None:
        super().__init__(profile, credentials)
        self.options = options
        self.capabilities = self.capabilities & frozenset(options.operations)

    def build(self, call: Call) -> HttpRequest:
        self.check(call)
        spec = self.options.operations[call.operation]
        values = self._values(call)
        path = _fill_path(spec.path, values)
        if spec.query:
            path += ("&" if "?" in path else "?") + urlencode(
                {k: _text(_fill(v, values)) for k, v in spec.query.items()}
            )
        headers = {name: _text(_fill(value, values)) for name, value in spec.headers.items()}
        if spec.json_body is not None:
            return self.request(call, spec.method, path, json=_fill(spec.json_body, values), headers=headers)
        if spec.form is not None:
            body, content_type = encode_form({k: _text(_fill(v, values)) for k, v in spec.form.items()})
            return self.request(call, spec.method, path, body=body, content_type=content_type, headers=headers)
        if spec.multipart is not None:
            content = call.content if isinstance(call, UploadMedia | SendMedia) and call.content else b""
            fields = {k: _text(_fill(v, values)) for k, v in spec.multipart.fields.items()}
            body, content_type = encode_multipart(
                fields, spec.multipart.file_field, str(values["filename"]), content, str(values["mime_type"])
            )
            return self.request(call, spec.method, path, body=body, content_type=content_type, headers=headers)
        return self.request(call, spec.method, path, headers=headers)

    def _values(self, call: Call) -> dict[str, Any]:
        phone = self.from_number(call)  # the call's sender, else the profile's first number
        values: dict[str, Any] = {
            "from": phone.number,
            "from_digits": phone.digits,
            "phone_number_id": phone.id,
            "correlation_id": call.correlation_id or "",
            "mime_type": getattr(call, "mime_type", "application/octet-stream"),
            "filename": getattr(call, "filename", None) or "upload.bin",
        }
        names = ("to", "template", "language", "media_id", "link", "kind", "query", "limit", "conversation_id")
        for name in (*names, "agent", "cursor", "cap", "tag"):
            if hasattr(call, name):
                values[name] = getattr(call, name) or ""
        if isinstance(call, AgentOnline):
            values["skills"] = list(call.skills)
        if isinstance(call, AgentReply):
            values["text"] = with_token(call.text, call.correlation_id)
        if isinstance(call, BroadcastSegment):
            values["params"] = list(params_with_token(call.params, call.correlation_id))
        if "to" in values:
            values["to_digits"] = str(values["to"]).removeprefix("whatsapp:").lstrip("+")
        if isinstance(call, SendText):
            values["text"] = with_token(call.text, call.correlation_id)
        if isinstance(call, SendTemplate):
            values["params"] = list(params_with_token(call.params, call.correlation_id))
        if isinstance(call, SendMedia):
            values["caption"] = with_token(call.caption, call.correlation_id)
        return values

    def interpret(self, request: HttpRequest, response: HttpResponse) -> Outcome:
        spec = self.options.operations[request.operation]
        data = response.json()
        ok = response.status in spec.success.status
        if ok and spec.success.json_path:
            found = dig(data, spec.success.json_path)
            ok = bool(found) if spec.success.equals is None else found == spec.success.equals
        code = dig(data, spec.error_code) if spec.error_code else None
        text = dig(data, spec.error_text) if spec.error_text else None
        message_id = dig(data, spec.message_id) if spec.message_id else None
        extra: dict[str, Any] = {}
        if spec.inbox is not None:
            inbox = spec.inbox
            extra["items"] = inbox_items(
                dig(data, inbox.items),
                conversation=inbox.conversation_id,
                customer=inbox.customer,
                text=inbox.text,
                assigned_at=inbox.assigned_at or "",
            )
            cursor = dig(data, inbox.cursor) if inbox.cursor else None
            extra["cursor"] = "" if cursor is None else str(cursor)
        if spec.media_id:
            media_id = dig(data, spec.media_id)
            if media_id is not None:
                extra["media_id"] = str(media_id)
        return outcome(
            request,
            response,
            ok=ok,
            error_code=None if code is None else str(code),
            error_text=None if text is None else str(text),
            vendor_message_id=None if message_id is None else str(message_id),
            data=extra,
        )


def _fill_path(template: str, values: dict[str, Any]) -> str:
    # Path placeholders are percent-encoded so a value can never add path segments or a query.
    return _PLACEHOLDER.sub(lambda match: quote(_text(values.get(match.group(1), "")), safe=""), template)


ADAPTERS.add(
    "generic-http",
    AdapterSpec(
        "generic-http",
        GenericHttpAdapter,
        GenericHttpOptions,
        frozenset(OPERATIONS),
        frozenset({"none", "bearer", "basic", "header"}),
        "declarative: method, path template, body template, success rule, message-id path",
    ),
)
