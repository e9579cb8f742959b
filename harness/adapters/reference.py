"""The reference SCRM's REST API (docs/contracts.md, "Reference SCRM vendor"): JSON, Bearer key, 202 on accept.

The correlation token rides in the text, as the last template parameter, or in the caption; the reference
vendor passes all three through to the Graph API unchanged. The sending number goes as ``from`` (its Cloud API
phone-number id) when the call names one; without it the vendor sends from its own default number.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict

from harness.adapters.base import (
    OPERATIONS,
    AgentOffline,
    AgentOnline,
    AgentReply,
    AssignConversation,
    BroadcastSegment,
    CloseConversation,
    Health,
    HttpRequest,
    HttpResponse,
    Outcome,
    ReadInbox,
    SearchConversations,
    SendMedia,
    SendTemplate,
    SendText,
    TagContact,
    UploadMedia,
    dig,
    inbox_items,
    outcome,
    params_with_token,
    text_or_none,
    with_token,
)
from harness.adapters.common import ADAPTERS, AdapterSpec, DialectBase, encode_multipart


class ReferenceOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    agent: str = "agent-1"  # default agent for assign_conversation in smoke tests


class ReferenceAdapter(DialectBase):
    name = "reference"
    supported = frozenset(OPERATIONS)

    def send_text(self, call: SendText) -> HttpRequest:
        body = {"to": _digits(call.to), "text": with_token(call.text, call.correlation_id), **_sender(call)}
        return self.request(call, "POST", "/api/messages", json=body)

    def send_template(self, call: SendTemplate) -> HttpRequest:
        body = {
            "to": _digits(call.to),
            "template": call.template,
            "language": call.language,
            "params": list(params_with_token(call.params, call.correlation_id)),
            **_sender(call),
        }
        return self.request(call, "POST", "/api/messages/template", json=body)

    def send_media(self, call: SendMedia) -> HttpRequest:
        body: dict[str, Any] = {"to": _digits(call.to), "kind": call.kind, **_sender(call)}
        if call.media_id:
            body["media_id"] = call.media_id
        elif call.link:
            body["link"] = call.link
        if call.kind != "audio":
            body["caption"] = with_token(call.caption, call.correlation_id)
        return self.request(call, "POST", "/api/messages/media", json=body)

    def upload_media(self, call: UploadMedia) -> HttpRequest:
        body, content_type = encode_multipart(
            {"type": call.mime_type, **_sender(call)}, "file", call.filename, call.content, call.mime_type
        )
        return self.request(call, "POST", "/api/media", body=body, content_type=content_type)

    def search_conversations(self, call: SearchConversations) -> HttpRequest:
        return self.request(call, "GET", "/api/conversations?" + urlencode({"q": call.query, "limit": call.limit}))

    def assign_conversation(self, call: AssignConversation) -> HttpRequest:
        path = f"/api/conversations/{quote(call.conversation_id, safe='')}/assign"
        return self.request(call, "POST", path, json={"agent": call.agent})

    def health(self, call: Health) -> HttpRequest:
        return self.request(call, "GET", "/health")

    def agent_online(self, call: AgentOnline) -> HttpRequest:
        body = {"skills": list(call.skills), "cap": call.cap}
        return self.request(call, "POST", f"/api/agents/{quote(call.agent, safe='')}/online", json=body)

    def agent_offline(self, call: AgentOffline) -> HttpRequest:
        return self.request(call, "POST", f"/api/agents/{quote(call.agent, safe='')}/offline", json={})

    def agent_inbox(self, call: ReadInbox) -> HttpRequest:
        query = urlencode({"since": call.cursor, "limit": call.limit})
        return self.request(call, "GET", f"/api/agents/{quote(call.agent, safe='')}/inbox?{query}")

    def agent_reply(self, call: AgentReply) -> HttpRequest:
        path = f"/api/conversations/{quote(call.conversation_id, safe='')}/reply"
        body = {"agent": call.agent, "text": with_token(call.text, call.correlation_id)}
        return self.request(call, "POST", path, json=body)

    def close_conversation(self, call: CloseConversation) -> HttpRequest:
        path = f"/api/conversations/{quote(call.conversation_id, safe='')}/close"
        return self.request(call, "POST", path, json={"agent": call.agent})

    def tag_contact(self, call: TagContact) -> HttpRequest:
        return self.request(
            call, "POST", f"/api/contacts/{quote(_digits(call.to), safe='')}/tags", json={"tag": call.tag}
        )

    def broadcast_segment(self, call: BroadcastSegment) -> HttpRequest:
        body = {
            "tag": call.tag,
            "template": call.template,
            "language": call.language,
            "params": list(params_with_token(call.params, call.correlation_id)),
        }
        return self.request(call, "POST", "/api/broadcasts", json=body)

    def interpret(self, request: HttpRequest, response: HttpResponse) -> Outcome:
        data = response.json()
        if not 200 <= response.status < 300:
            return outcome(
                request,
                response,
                ok=False,
                error_code=text_or_none(dig(data, "error.code")),
                error_text=text_or_none(dig(data, "error.message")),
            )
        extra: dict[str, Any] = {}
        message_id = None
        if request.operation == "upload_media":
            extra["media_id"] = text_or_none(dig(data, "media_id"))
            if not extra["media_id"]:
                return outcome(
                    request, response, ok=False, error_code="no_media_id", error_text="no media_id in answer"
                )
        elif request.operation == "search_conversations":
            extra["total"] = dig(data, "total")
            items = dig(data, "items")
            extra["items"] = items if isinstance(items, list) else []
        elif request.operation == "agent_inbox":
            extra["items"] = inbox_items(dig(data, "items"), conversation="conversation_id", customer="wa_id")
            extra["cursor"] = text_or_none(dig(data, "cursor")) or ""
        elif request.operation == "agent_online":
            extra["cap"] = dig(data, "cap")  # the vendor's own cap for the agent, when it lowers the one asked for
        elif request.operation == "broadcast_segment":
            message_id = text_or_none(dig(data, "id"))
            extra["total"] = dig(data, "total")
        elif request.operation in ("send_text", "send_template", "send_media", "agent_reply"):
            message_id = text_or_none(dig(data, "id"))
            if not message_id:
                return outcome(request, response, ok=False, error_code="no_id", error_text="accepted without an id")
        return outcome(request, response, ok=True, vendor_message_id=message_id, data=extra)


def _sender(call: SendText | SendTemplate | SendMedia | UploadMedia) -> dict[str, str]:
    return {"from": call.sender.id} if call.sender is not None else {}


def _digits(number: str) -> str:
    return number.removeprefix("whatsapp:").lstrip("+")


ADAPTERS.add(
    "reference",
    AdapterSpec(
        "reference",
        lambda profile, credentials, _options: ReferenceAdapter(profile, credentials),
        ReferenceOptions,
        ReferenceAdapter.supported,
        frozenset({"bearer", "none"}),
        "our reference SCRM (docs/contracts.md)",
    ),
)
