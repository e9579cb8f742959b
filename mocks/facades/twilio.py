"""A Twilio-shaped API (whatsapp-cloud-api.md §7.2) in front of the mock Graph API.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form: To, From, Body, MediaUrl, ContentSid,
ContentVariables, StatusCallback), HTTP Basic AccountSid:AuthToken, addresses ``whatsapp:+E164``; answers 201
with a Message resource (``sid`` SM…, ``status: queued``) or Twilio's error JSON ``{code, message, more_info,
status}``. ``GET /2010-04-01/Accounts/{AccountSid}.json`` returns the account. ``From`` picks the mock's
phone number the message goes out from (``FacadeSettings.number_id``); a From the facade does not have is
refused with 400 / 63007, as Twilio refuses a From no channel of the account has.

Deviation, on purpose: real Twilio queues and reports WhatsApp-side failures later through status callbacks;
this facade forwards synchronously, so an upstream rejection comes back at once as a Twilio error (rate limits
as 429 with 63018, the customer window as 63016). Status callbacks (``StatusCallback``, loopback URLs only)
are sent as the mock's status ladder reports the message: see ``mocks.facades.twilio_callbacks``.
"""

from __future__ import annotations

import base64
import binascii
import time
from email.utils import formatdate
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mocks.facades.common import (
    FACADES,
    FacadeSettings,
    build_app,
    graph_error,
    json_response,
    new_id,
    secure_equal,
    settings_of,
    upstream,
    wamid_of,
)
from mocks.facades.twilio_callbacks import (
    CallbackSettings,
    callback_refusal,
    callback_routes,
    callback_service,
    callbacks_of,
    subscribe_for,
)

# Graph error code -> (HTTP status, Twilio error code); everything else is 400 / 63003-like "channel error".
_ERROR_MAP: dict[int, tuple[int, int]] = {
    130429: (429, 63018),
    131056: (429, 63018),
    80007: (429, 63018),
    131047: (400, 63016),
    131026: (400, 63003),
    132001: (400, 63016),
}


def twilio_error(status: int, code: int, message: str) -> Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return json_response(body, status)


def _authorised(request: Request, settings: FacadeSettings, account_sid: str) -> bool:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return account_sid == settings.account_sid and user == account_sid and secure_equal(password, settings.api_key)


def _address(value: str | None) -> str | None:
    if not value or not value.startswith("whatsapp:+"):
        return None
    digits = value.removeprefix("whatsapp:+")
    return digits if digits.isdigit() and 7 <= len(digits) <= 15 else None


def _graph_body(form: Any, to: str) -> dict[str, Any] | Response:
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
    text = form.get("Body") or ""
    if form.get("ContentSid"):
        try:
            variables = orjson.loads(form.get("ContentVariables") or "{}")
        except orjson.JSONDecodeError:
            return twilio_error(400, 21656, "The ContentVariables Parameter is invalid")
        if not isinstance(variables, dict):
            return twilio_error(400, 21656, "The ContentVariables Parameter is invalid")
        ordered = [str(variables[key]) for key in sorted(variables, key=lambda k: int(k) if str(k).isdigit() else 0)]
        parameters = [{"type": "text", "text": value} for value in ordered]
        template: dict[str, Any] = {"name": form["ContentSid"], "language": {"code": "en_US"}}
        if parameters:
            template["components"] = [{"type": "body", "parameters": parameters}]
        return {**body, "type": "template", "template": template}
    if form.get("MediaUrl"):
        return {**body, "type": "image", "image": {"link": form["MediaUrl"], "caption": text}}
    if not text:
        return twilio_error(400, 21602, "Message body is required")
    return {**body, "type": "text", "text": {"body": text}}


async def create_message(request: Request) -> Response:
    settings = settings_of(request)
    account_sid = request.path_params["account_sid"]
    if not _authorised(request, settings, account_sid):
        return twilio_error(401, 20003, "Authenticate")
    form = await request.form()
    to, sender = _address(form.get("To")), _address(form.get("From"))  # type: ignore[arg-type]
    if to is None:
        return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {form.get('To')}")
    if sender is None:
        return twilio_error(400, 21212, f"Invalid 'From' Phone Number: {form.get('From')}")
    number_id = settings.number_id(sender)
    if number_id is None:  # https://www.twilio.com/docs/errors/63007: a From no channel of the account has
        return twilio_error(400, 63007, "Twilio could not find a Channel with the specified From address")
    graph_body = _graph_body(form, to)
    if isinstance(graph_body, Response):
        return graph_body
    callback = form.get("StatusCallback")
    if callback is not None:
        refusal = callback_refusal(str(callback))
        if refusal:
            return twilio_error(400, 21609, f"Invalid StatusCallback URL {callback}: {refusal}")
        await subscribe_for(request)  # before forwarding: the mock plans statuses for existing subscriptions only
    config = callbacks_of(request).config
    text = str(form.get("Body") or "") + str(form.get("ContentVariables") or "") + str(to)
    if config.drops(text):  # the dishonest reference: acknowledged, never forwarded
        return _dropped(request, form, account_sid, callback)
    status, data = await upstream(request).send(graph_body, number_id)
    if not 200 <= status < 300 or not wamid_of(data):
        code, message = graph_error(data)
        http_status, twilio_code = _ERROR_MAP.get(code or 0, (500 if status >= 500 else 400, 30008))
        return twilio_error(http_status, twilio_code, message)
    sid = new_id("SM")
    if callback is not None:
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": account_sid, "ApiVersion": "2010-04-01"}
        params.update({"From": str(form.get("From")), "To": str(form.get("To")), "ChannelPrefix": "whatsapp"})
        callbacks_of(request).track(str(wamid_of(data)), str(callback), params)
    return json_response(_resource(sid, account_sid, form), 201)


def _dropped(request: Request, form: Any, account_sid: str, callback: Any) -> Response:
    sid = new_id("SM")
    if callback is not None:
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": account_sid, "ApiVersion": "2010-04-01"}
        params.update({"From": str(form.get("From")), "To": str(form.get("To")), "ChannelPrefix": "whatsapp"})
        callbacks_of(request).report_dropped(sid, str(callback), params)
    return json_response(_resource(sid, account_sid, form), 201)


def _resource(sid: str, account_sid: str, form: Any) -> dict[str, Any]:
    now = formatdate(time.time(), usegmt=True)
    return {
        "sid": sid,
        "account_sid": account_sid,
        "to": form.get("To"),
        "from": form.get("From"),
        "body": form.get("Body") or "",
        "status": "queued",
        "num_segments": "1",
        "num_media": "1" if form.get("MediaUrl") else "0",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "date_created": now,
        "date_updated": now,
        "date_sent": None,
        "error_code": None,
        "error_message": None,
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }


async def fetch_account(request: Request) -> Response:
    settings = settings_of(request)
    account_sid = request.path_params["account_sid"]
    if not _authorised(request, settings, account_sid):
        return twilio_error(401, 20003, "Authenticate")
    return json_response({"sid": account_sid, "friendly_name": "scrmbench facade", "status": "active", "type": "Full"})


def create_twilio_app(
    settings: FacadeSettings, *, callbacks: CallbackSettings | None = None, **kwargs: Any
) -> Starlette:
    routes = [
        Route("/2010-04-01/Accounts/{account_sid}/Messages.json", create_message, methods=["POST"]),
        Route("/2010-04-01/Accounts/{account_sid}.json", fetch_account, methods=["GET"]),
        *callback_routes(),
    ]
    service = callback_service(settings, callbacks or CallbackSettings.from_env())
    return build_app(settings, list(routes), services=[service], **kwargs)


FACADES.add("twilio", create_twilio_app)
