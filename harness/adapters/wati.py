"""WATI's v1 API (whatsapp-cloud-api.md §7.3): session text, template and file sends, Bearer token.

Numbers are digits with country code and no '+'. ``sendSessionMessage`` takes the text as the ``messageText``
query parameter (several integrations report the JSON body is ignored). WATI answers HTTP 200 even for business
errors, with ``result: false`` in the body: that is a failure here. Files go with the send
(``sendSessionFile``, multipart), so there is no standalone upload. The token rides in the text, as the next
template parameter, or in the file's caption.

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
    Health,
    HttpRequest,
    HttpResponse,
    Outcome,
    SendMedia,
    SendTemplate,
    SendText,
    dig,
    outcome,
    params_with_token,
    with_token,
)
from harness.adapters.common import ADAPTERS, AdapterSpec, Credentials, DialectBase, auth_headers, encode_multipart

_MESSAGE_ID_PATHS = ("message.whatsappMessageId", "message.id", "model.whatsappMessageId", "model.id", "id")


class WatiOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    api_prefix: str = Field(default="/api/v1", pattern=r"^(/[A-Za-z0-9._-]+)*$")  # e.g. /{tenantId}/api/v1
    broadcast_name: str = "scrmbench"
    channel_number: str | None = Field(default=None, pattern=r"^[1-9][0-9]{6,14}$")
    raw_token: bool = False  # some WATI tenants want the token without "Bearer "


class WatiAdapter(DialectBase):
    name = "wati"
    supported = frozenset({"send_text", "send_template", "send_media", "health"})

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

    def interpret(self, request: HttpRequest, response: HttpResponse) -> Outcome:
        data = response.json()
        info, message = dig(data, "info"), dig(data, "message")
        text = _str(info) if info is not None else (message if isinstance(message, str) else None)
        if not 200 <= response.status < 300:
            return outcome(request, response, ok=False, error_code=str(response.status), error_text=text)
        result = dig(data, "result")
        if result is False or result == "false" or (isinstance(result, str) and result not in ("success", "true")):
            return outcome(request, response, ok=False, error_code="result_false", error_text=text or "result: false")
        if request.operation == "health":
            return outcome(request, response, ok=True)
        message_id = next((str(found) for path in _MESSAGE_ID_PATHS if (found := dig(data, path))), None)
        return outcome(request, response, ok=True, vendor_message_id=message_id)


def _digits(number: str) -> str:
    return number.removeprefix("whatsapp:").lstrip("+")


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


ADAPTERS.add(
    "wati",
    AdapterSpec(
        "wati",
        WatiAdapter,
        WatiOptions,
        WatiAdapter.supported,
        frozenset({"bearer"}),
        "WATI v1 sendSessionMessage / sendTemplateMessage / sendSessionFile",
    ),
)
