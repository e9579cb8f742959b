"""A WATI-shaped API (whatsapp-cloud-api.md §7.3, v1 routes) in front of the mock Graph API.

- ``POST /api/v1/sendSessionMessage/{whatsappNumber}?messageText=…&channelPhoneNumber=…``
- ``POST /api/v1/sendTemplateMessage?whatsappNumber=…`` JSON ``{template_name, broadcast_name, parameters,
  channel_number}``
- ``POST /api/v1/sendSessionFile/{whatsappNumber}?caption=…`` multipart ``file`` (uploaded, then sent by id)
- ``GET /api/v1/getMessageTemplates``

``Authorization: Bearer <token>`` (the raw token is accepted too, as some tenants use it). Like WATI's v1, a
business failure is HTTP 200 with ``result: false`` and the reason in ``info``; only auth and malformed
requests get 4xx. ``channelPhoneNumber`` / ``channel_number`` pick the mock's phone number the message goes out
from (``FacadeSettings.number_id``; absent: the default number); a number the facade does not have is a
``result: false`` (the wording is ours: WATI documents no message for it). Files go from the default number.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mocks.facades.common import (
    FACADES,
    FacadeSettings,
    build_app,
    graph_error,
    json_response,
    media_kind,
    new_id,
    secure_equal,
    settings_of,
    upstream,
    wamid_of,
)


def _authorised(request: Request, settings: FacadeSettings) -> bool:
    token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    return secure_equal(token, settings.api_key)


def _number(value: str | None) -> str | None:
    return value if value and value.isdigit() and 7 <= len(value) <= 15 else None


def _unknown_channel(channel: str) -> Response:
    return json_response({"result": False, "info": f"{channel} is not a channel number of this account"})


def _unauthorised() -> Response:
    return Response("Unauthorized", status_code=401)


def _result(status: int, data: Any, success: dict[str, Any]) -> Response:
    wamid = wamid_of(data)
    if not 200 <= status < 300 or not wamid:
        _, message = graph_error(data)
        return json_response({"result": False, "info": message})
    return json_response({"result": True, **success, "message": {"id": new_id("", 24), "whatsappMessageId": wamid}})


async def send_session_message(request: Request) -> Response:
    if not _authorised(request, settings_of(request)):
        return _unauthorised()
    number = _number(request.path_params["number"])
    text = request.query_params.get("messageText")
    if number is None:
        return json_response({"result": False, "info": "Invalid WhatsApp number"})
    if not text:
        return json_response({"result": False, "info": "messageText is required"})
    channel = request.query_params.get("channelPhoneNumber")
    number_id = settings_of(request).number_id(channel)
    if number_id is None:
        return _unknown_channel(str(channel))
    body = {"messaging_product": "whatsapp", "to": number, "type": "text", "text": {"body": text}}
    status, data = await upstream(request).send(body, number_id)
    return _result(status, data, {"info": "Message sent"})


async def send_template_message(request: Request) -> Response:
    if not _authorised(request, settings_of(request)):
        return _unauthorised()
    number = _number(request.query_params.get("whatsappNumber"))
    try:
        payload = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return json_response({"result": False, "info": "Invalid JSON body"}, 400)
    if number is None or not isinstance(payload, dict) or not payload.get("template_name"):
        return json_response({"result": False, "info": "whatsappNumber and template_name are required"})
    channel = payload.get("channel_number")
    number_id = settings_of(request).number_id(str(channel) if channel else None)
    if number_id is None:
        return _unknown_channel(str(channel))
    parameters = payload.get("parameters") or []
    values = [str(item.get("value", "")) for item in parameters if isinstance(item, dict)]
    template: dict[str, Any] = {"name": payload["template_name"], "language": {"code": "en_US"}}
    if values:
        template["components"] = [{"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}]
    body = {"messaging_product": "whatsapp", "to": number, "type": "template", "template": template}
    status, data = await upstream(request).send(body, number_id)
    return _result(
        status,
        data,
        {"phone_number": number, "template_name": payload["template_name"], "validWhatsAppNumber": True},
    )


async def send_session_file(request: Request) -> Response:
    if not _authorised(request, settings_of(request)):
        return _unauthorised()
    number = _number(request.path_params["number"])
    form = await request.form()
    upload = form.get("file")
    if number is None or not isinstance(upload, UploadFile):
        return json_response({"result": False, "info": "a WhatsApp number and a file are required"})
    content = await upload.read()
    mime_type = upload.content_type or "application/octet-stream"
    status, data = await upstream(request).upload(content, mime_type, upload.filename or "file")
    media_id = data.get("id") if isinstance(data, dict) else None
    if not 200 <= status < 300 or not media_id:
        return json_response({"result": False, "info": graph_error(data)[1]})
    kind = media_kind(mime_type)
    media: dict[str, Any] = {"id": media_id}
    if kind != "audio":
        media["caption"] = request.query_params.get("caption", "")
    body = {"messaging_product": "whatsapp", "to": number, "type": kind, kind: media}
    status, data = await upstream(request).send(body)
    return _result(status, data, {"info": "File sent"})


async def get_message_templates(request: Request) -> Response:
    if not _authorised(request, settings_of(request)):
        return _unauthorised()
    return json_response({"result": "success", "messageTemplates": [], "link": {"total": 0}})


def create_wati_app(settings: FacadeSettings, **kwargs: Any) -> Starlette:
    routes = [
        Route("/api/v1/sendSessionMessage/{number}", send_session_message, methods=["POST"]),
        Route("/api/v1/sendTemplateMessage", send_template_message, methods=["POST"]),
        Route("/api/v1/sendSessionFile/{number}", send_session_file, methods=["POST"]),
        Route("/api/v1/getMessageTemplates", get_message_templates, methods=["GET"]),
    ]
    return build_app(settings, list(routes), **kwargs)


FACADES.add("wati", create_wati_app)
