"""WATI's v1 API (whatsapp-cloud-api.md §7.3): session text, template and file sends, Bearer token; of the
contact-centre calls, operator assignment and contact labels.

Numbers are digits with country code and no '+'. ``sendSessionMessage`` takes the text as the ``messageText``
query parameter (several integrations report the JSON body is ignored). WATI answers HTTP 200 even for business
errors, with ``result: false`` in the body: that is a failure here. Files go with the send
(``sendSessionFile``, multipart), so there is no standalone upload. The token rides in the text, as the next
template parameter, or in the file's caption.

The contact-centre calls WATI's public API has (docs.wati.io/reference, "Assign User", "Update Contact
Attributes"): ``assign_conversation`` is ``POST assignOperator?email=&whatsappNumber=`` (WATI addresses an operator
by e-mail and a v1 chat by the customer's number, so the call's ``agent`` is the operator's e-mail and its
``conversation_id`` the customer's number); ``tag_contact`` is ``POST updateContactAttributes/{number}`` setting the
attribute ``options.tag_attribute`` to the tag (WATI's API has no contact tags; its segments filter on attributes).
It has no agent presence, no per-operator inbox and no reply as an operator (sends go out as the business), so its
agents cannot be simulated and the agents figures are "not measured"; ``updateChatStatus`` (close) exists on Pro
plans but its body's field names are not in the public reference, and there is no send to a segment (the bulk
``sendTemplateMessages`` takes a list of receivers): README, "Agents, tags and segments by adapter".

The sending number (WATI's "multiple WhatsApp numbers", support.wati.io article 11968977): ``channel_number`` in
``sendTemplateMessage``'s body and ``channelPhoneNumber`` with ``sendSessionMessage``, from the call's ``sender``
(``options.channel_number`` when the call names none and the option is set). ``sendSessionFile`` has no documented
way to choose: files go from the tenant's default number.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict, Field

from harness.adapters.base import (
    AssignConversation,
    Health,
    HttpRequest,
    HttpResponse,
    Outcome,
    SendMedia,
    SendTemplate,
    SendText,
    TagContact,
    dig,
    outcome,
    params_with_token,
    text_or_none,
    with_token,
)
from harness.adapters.common import ADAPTERS, AdapterSpec, Credentials, DialectBase, auth_headers, encode_multipart

_NO_MESSAGE = frozenset({"health", "assign_conversation", "tag_contact"})
_MESSAGE_ID_PATHS = ("message.whatsappMessageId", "message.id", "model.whatsappMessageId", "model.id", "id")


class WatiOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    api_prefix: str = Field(default="/api/v1", pattern=r"^(/[A-Za-z0-9._-]+)*$")  # e.g. /{tenantId}/api/v1
    broadcast_name: str = "scrmbench"
    channel_number: str | None = Field(default=None, pattern=r"^[1-9][0-9]{6,14}$")
    raw_token: bool = False  # some WATI tenants want the token without "Bearer "
    # tag_contact sets this contact attribute to the tag (WATI's API labels contacts with attributes, not tags).
    tag_attribute: str = Field(default="scrmbench_tag", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,49}$")


class WatiAdapter(DialectBase):
    name = "wati"
    supported = frozenset({"send_text", "send_template", "send_media", "health", "assign_conversation", "tag_contact"})

    def __init__(self, profile: Any, credentials: Credentials, options: WatiOptions) -> None:
        super().__init__(profile, credentials)
        self.options = options
        self._auth = auth_headers(profile.auth, credentials, raw_token=options.raw_token)

    def _channel(self, call: SendText | SendTemplate) -> str | None:
        """The number to send from: the call's sender, else ``options.channel_number`` (None: WATI's default)."""
        return call.sender.digits if call.sender is not None else self.options.channel_number

    def send_text(self, call: SendText) -> HttpRequest:
        fields = {"messageText": with_token(call.text, call.correlation_id)}
        channel = self._channel(call)
        if channel:
            fields["channelPhoneNumber"] = channel
        query = urlencode(fields, quote_via=quote)
        return self.request(call, "POST", f"{self.options.api_prefix}/sendSessionMessage/{_digits(call.to)}?{query}")

    def send_template(self, call: SendTemplate) -> HttpRequest:
        params = params_with_token(call.params, call.correlation_id)
        body: dict[str, Any] = {
            "template_name": call.template,
            "broadcast_name": self.options.broadcast_name,
            "parameters": [{"name": str(index), "value": value} for index, value in enumerate(params, start=1)],
        }
        channel = self._channel(call)
        if channel:
            body["channel_number"] = channel
        query = urlencode({"whatsappNumber": _digits(call.to)})
        return self.request(call, "POST", f"{self.options.api_prefix}/sendTemplateMessage?{query}", json=body)

    def send_media(self, call: SendMedia) -> HttpRequest:
        if call.content is None:
            raise self.unsupported(call.operation, "WATI sends files with the message (sendSessionFile); give content")
        query = urlencode({"caption": with_token(call.caption, call.correlation_id)}, quote_via=quote)
        filename = call.filename or f"file.{call.mime_type.rsplit('/', 1)[-1]}"
        body, content_type = encode_multipart({}, "file", filename, call.content, call.mime_type)
        path = f"{self.options.api_prefix}/sendSessionFile/{_digits(call.to)}?{query}"
        return self.request(call, "POST", path, body=body, content_type=content_type)

    def health(self, call: Health) -> HttpRequest:
        return self.request(call, "GET", f"{self.options.api_prefix}/getMessageTemplates")

    def assign_conversation(self, call: AssignConversation) -> HttpRequest:
        query = urlencode({"email": call.agent, "whatsappNumber": _digits(call.conversation_id)})
        return self.request(call, "POST", f"{self.options.api_prefix}/assignOperator?{query}")

    def tag_contact(self, call: TagContact) -> HttpRequest:
        body = {"customParams": [{"name": self.options.tag_attribute, "value": call.tag}]}
        path = f"{self.options.api_prefix}/updateContactAttributes/{quote(_digits(call.to), safe='')}"
        return self.request(call, "POST", path, json=body)

    def interpret(self, request: HttpRequest, response: HttpResponse) -> Outcome:
        data = response.json()
        info, message = dig(data, "info"), dig(data, "message")
        text = text_or_none(info) if info is not None else (message if isinstance(message, str) else None)
        if not 200 <= response.status < 300:
            return outcome(request, response, ok=False, error_code=str(response.status), error_text=text)
        result = dig(data, "result")
        if result is False or result == "false" or (isinstance(result, str) and result not in ("success", "true")):
            return outcome(request, response, ok=False, error_code="result_false", error_text=text or "result: false")
        if request.operation in _NO_MESSAGE:  # an answer about the account, a chat or a contact, not a send
            return outcome(request, response, ok=True)
        message_id = next((str(found) for path in _MESSAGE_ID_PATHS if (found := dig(data, path))), None)
        return outcome(request, response, ok=True, vendor_message_id=message_id)


def _digits(number: str) -> str:
    return number.removeprefix("whatsapp:").lstrip("+")


ADAPTERS.add(
    "wati",
    AdapterSpec(
        "wati",
        WatiAdapter,
        WatiOptions,
        WatiAdapter.supported,
        frozenset({"bearer"}),
        "WATI v1 sendSessionMessage / sendTemplateMessage / sendSessionFile, assignOperator, updateContactAttributes",
    ),
)
