"""Twilio's WhatsApp dialect (whatsapp-cloud-api.md §7.2): Programmable Messaging's Messages.json.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded, HTTP Basic (AccountSid:AuthToken),
addresses ``whatsapp:+E164``. Templates go by ``ContentSid`` with ``ContentVariables`` (a JSON object of
numbered variables); media only by URL (``MediaUrl``), so there is no standalone upload. The answer is JSON with
``sid`` (``SM…``) and ``status``; errors are ``{"code", "message", "more_info", "status"}``.
The correlation token rides in ``Body`` (text, caption) or as the next numbered content variable.
The sending number is ``From`` (``whatsapp:+E164``), the call's ``sender`` or the profile's first number; with a
``messaging_service_sid`` Twilio may pick another sender of the service's pool, so the records name the number
asked for, and the ledger says which one WhatsApp saw.
"""

from __future__ import annotations

from typing import Any

import orjson
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
    text_or_none,
    with_token,
)
from harness.adapters.common import ADAPTERS, AdapterSpec, Credentials, DialectBase, auth_headers, encode_form

# Statuses in a 2xx answer that already say the message will not go out.
_FAILED_STATUSES = frozenset({"failed", "undelivered", "canceled"})


class TwilioOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The account SID is an identifier, not a secret; when unset the Basic-auth username is used.
    account_sid: str | None = Field(default=None, pattern=r"^AC[0-9a-fA-F]{32}$")
    status_callback: str | None = Field(default=None, pattern=r"^https?://")
    messaging_service_sid: str | None = Field(default=None, pattern=r"^MG[0-9a-fA-F]{32}$")


class TwilioAdapter(DialectBase):
    name = "twilio"
    supported = frozenset({"send_text", "send_template", "send_media", "health"})

    def __init__(self, profile: Any, credentials: Credentials, options: TwilioOptions) -> None:
        super().__init__(profile, credentials)
        self.options = options
        self.account_sid = options.account_sid or credentials.username or ""
        # Twilio's Basic-auth user is the account SID; when the profile gives it, it wins over the variable.
        self._auth = auth_headers(profile.auth, Credentials(username=self.account_sid, password=credentials.password))

    def _send(self, call: SendText | SendTemplate | SendMedia, fields: dict[str, str]) -> HttpRequest:
        sender = "whatsapp:+" + self.from_number(call).digits
        form = {"To": "whatsapp:+" + call.to.removeprefix("whatsapp:").lstrip("+"), "From": sender, **fields}
        if self.options.messaging_service_sid:
            form["MessagingServiceSid"] = self.options.messaging_service_sid
        if self.options.status_callback:
            form["StatusCallback"] = self.options.status_callback
        body, content_type = encode_form(form)
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        return self.request(call, "POST", path, body=body, content_type=content_type)

    def send_text(self, call: SendText) -> HttpRequest:
        return self._send(call, {"Body": with_token(call.text, call.correlation_id)})

    def send_template(self, call: SendTemplate) -> HttpRequest:
        params = params_with_token(call.params, call.correlation_id)
        variables = {str(index): value for index, value in enumerate(params, start=1)}
        return self._send(call, {"ContentSid": call.template, "ContentVariables": orjson.dumps(variables).decode()})

    def send_media(self, call: SendMedia) -> HttpRequest:
        if not call.link:
            raise self.unsupported(call.operation, "Twilio sends media by URL only (MediaUrl); give the call a link")
        return self._send(call, {"MediaUrl": call.link, "Body": with_token(call.caption, call.correlation_id)})

    def health(self, call: Health) -> HttpRequest:
        return self.request(call, "GET", f"/2010-04-01/Accounts/{self.account_sid}.json")

    def interpret(self, request: HttpRequest, response: HttpResponse) -> Outcome:
        data = response.json()
        if not 200 <= response.status < 300:
            return outcome(
                request,
                response,
                ok=False,
                error_code=text_or_none(dig(data, "code")),
                error_text=text_or_none(dig(data, "message")),
            )
        if request.operation == "health":
            return outcome(request, response, ok=True)
        sid = text_or_none(dig(data, "sid"))
        status = text_or_none(dig(data, "status")) or ""
        if status in _FAILED_STATUSES:
            return outcome(
                request,
                response,
                ok=False,
                vendor_message_id=sid,
                error_code=text_or_none(dig(data, "error_code")) or status,
                error_text=text_or_none(dig(data, "error_message")) or f"message status {status}",
            )
        if not sid:
            return outcome(request, response, ok=False, error_code="no_sid", error_text="accepted without a sid")
        return outcome(request, response, ok=True, vendor_message_id=sid)


ADAPTERS.add(
    "twilio",
    AdapterSpec(
        "twilio",
        TwilioAdapter,
        TwilioOptions,
        TwilioAdapter.supported,
        frozenset({"basic"}),
        "Twilio Messages.json, form-encoded, Basic auth, whatsapp:+ addresses",
    ),
)
