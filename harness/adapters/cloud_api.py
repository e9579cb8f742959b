"""Meta's Cloud API shape (a self-hosted system exposing it, or the mock directly) and the 360dialog dialect.

Meta: ``POST /{version}/{phone_number_id}/messages`` with ``Authorization: Bearer``; media upload
``POST /{version}/{phone_number_id}/media`` (multipart ``file``, ``type``, ``messaging_product``).
360dialog (whatsapp-cloud-api.md §7.1): the same bodies, ``POST /messages`` and ``POST /media`` without the
phone-number id (360dialog adds it; including it "may result in errors"), key in ``D360-API-KEY``.
The correlation token goes in the text, last template parameter or caption, and in ``biz_opaque_callback_data``.

The sending number: Meta's path names it (``/{phone_number_id}/messages``), so each send goes out from its call's
``sender`` (a multi-number profile's spread, ``plan.numbers``). A call that names none goes out from the first
number, or with ``numbers: by_recipient`` from the profile's number its recipient hashes to
(``mocks.whatsapp.shards.sender_for``: CRC-32 of its digits over the numbers' ids, sorted; a customer always hears
from the same number); a sharded mock (``scrmbench run --mock-shards N``) uses it to reach every shard.
360dialog cannot choose: its API keys are
generated per phone number (docs.360dialog.com, "API Keys"), so a 360dialog profile sends from the one number its
key belongs to; spread the load over several numbers with one profile (and key) per number.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.adapters.base import (
    Health,
    HttpRequest,
    HttpResponse,
    Outcome,
    SendMedia,
    SendTemplate,
    SendText,
    UploadMedia,
    dig,
    outcome,
    params_with_token,
    text_or_none,
    with_token,
)
from harness.adapters.common import ADAPTERS, AdapterSpec, DialectBase, encode_multipart
from mocks.whatsapp.shards import sender_for


class CloudApiOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dialect: Literal["meta", "360dialog"] = "meta"
    api_version: str = Field(default="v23.0", pattern=r"^v\d+\.\d+$")
    # Where `health` looks; default: Meta's phone-number node, 360dialog's webhook config.
    health_path: str | None = Field(default=None, pattern=r"^/")
    # Which of the profile's numbers sends: the first, or the one the recipient hashes to (spread over all).
    numbers: Literal["first", "by_recipient"] = "first"


class CloudApiAdapter(DialectBase):
    name = "cloud-api"
    supported = frozenset({"send_text", "send_template", "send_media", "upload_media", "health"})

    def __init__(self, profile: Any, credentials: Any, options: CloudApiOptions) -> None:
        super().__init__(profile, credentials)
        self.options = options
        phone_id = profile.phone.id or profile.phone.digits
        if options.dialect == "360dialog":
            self._prefix = ""
            default_health = "/v1/configs/webhook"
        else:
            self._prefix = f"/{options.api_version}/{phone_id}"
            default_health = self._prefix
        self._health_path = options.health_path or default_health
        self._spread: tuple[str, ...] = ()
        if options.numbers == "by_recipient" and options.dialect == "meta" and len(profile.phone_numbers) > 1:
            self._spread = tuple(sorted(n.id or n.digits for n in profile.phone_numbers))

    def _sender(self, to: str) -> str:
        """The path prefix of the number that sends to ``to`` (the first, or the recipient's hash's)."""
        if not self._spread:
            return self._prefix
        return f"/{self.options.api_version}/{sender_for(to, self._spread)}"

    def _path_for(self, call: SendText | SendTemplate | SendMedia, to: str) -> str:
        """The sending number's path: the call's ``sender`` (a multi-number profile's spread), else the recipient's
        hash's (``numbers: by_recipient``), else the first number's; 360dialog: none (the API key decides)."""
        if self.options.dialect == "360dialog" or call.sender is not None:
            return self._prefix_for(call)
        return self._sender(to)

    def _prefix_for(self, call: SendText | SendTemplate | SendMedia | UploadMedia) -> str:
        """Meta: the sending number's path; 360dialog: none (the API key decides the number)."""
        if self.options.dialect == "360dialog" or call.sender is None:
            return self._prefix
        return f"/{self.options.api_version}/{call.sender.id}"

    def _message(self, call: SendText | SendTemplate | SendMedia, node: dict[str, Any]) -> HttpRequest:
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": call.to.removeprefix("whatsapp:").lstrip("+"),
            **node,
        }
        if call.correlation_id:
            body["biz_opaque_callback_data"] = call.correlation_id
        return self.request(call, "POST", f"{self._path_for(call, body['to'])}/messages", json=body)

    def send_text(self, call: SendText) -> HttpRequest:
        return self._message(call, {"type": "text", "text": {"body": with_token(call.text, call.correlation_id)}})

    def send_template(self, call: SendTemplate) -> HttpRequest:
        params = params_with_token(call.params, call.correlation_id)
        template: dict[str, Any] = {"name": call.template, "language": {"code": call.language}}
        if params:
            template["components"] = [
                {"type": "body", "parameters": [{"type": "text", "text": value} for value in params]}
            ]
        return self._message(call, {"type": "template", "template": template})

    def send_media(self, call: SendMedia) -> HttpRequest:
        media: dict[str, Any] = {"id": call.media_id} if call.media_id else {"link": call.link}
        if call.kind != "audio":  # audio takes no caption on WhatsApp
            media["caption"] = with_token(call.caption, call.correlation_id)
        if call.kind == "document" and call.filename:
            media["filename"] = call.filename
        return self._message(call, {"type": call.kind, call.kind: media})

    def upload_media(self, call: UploadMedia) -> HttpRequest:
        fields = {"messaging_product": "whatsapp", "type": call.mime_type}
        body, content_type = encode_multipart(fields, "file", call.filename, call.content, call.mime_type)
        return self.request(call, "POST", f"{self._prefix_for(call)}/media", body=body, content_type=content_type)

    def health(self, call: Health) -> HttpRequest:
        return self.request(call, "GET", self._health_path)

    def interpret(self, request: HttpRequest, response: HttpResponse) -> Outcome:
        data = response.json()
        if not 200 <= response.status < 300:
            # Graph's envelope {"error": {"message", "code", ...}}; 360dialog passes Meta's errors through and
            # adds its own in the same envelope or as {"meta": {"developer_message"}} (§7.1).
            code = dig(data, "error.code") or dig(data, "meta.http_code")
            text = dig(data, "error.message") or dig(data, "meta.developer_message")
            return outcome(request, response, ok=False, error_code=text_or_none(code), error_text=text_or_none(text))
        if request.operation == "upload_media":
            media_id = text_or_none(dig(data, "id"))
            if not media_id:
                return outcome(request, response, ok=False, error_code="no_media_id", error_text="no id in answer")
            return outcome(request, response, ok=True, data={"media_id": media_id})
        if request.operation == "health":
            return outcome(request, response, ok=True)
        message_id = text_or_none(dig(data, "messages[0].id"))
        if not message_id:
            return outcome(
                request, response, ok=False, error_code="no_id", error_text="accepted without messages[0].id"
            )
        return outcome(request, response, ok=True, vendor_message_id=message_id)


ADAPTERS.add(
    "cloud-api",
    AdapterSpec(
        "cloud-api",
        CloudApiAdapter,
        CloudApiOptions,
        CloudApiAdapter.supported,
        frozenset({"bearer", "header", "none"}),
        "Meta Cloud API shape; options.dialect 360dialog for D360-API-KEY without phone id",
    ),
)
