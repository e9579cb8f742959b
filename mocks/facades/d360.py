"""A 360dialog-shaped Cloud API (whatsapp-cloud-api.md §7.1) in front of the mock Graph API.

``POST /messages`` and ``POST /media`` take Meta's bodies unchanged, without the phone-number id in the path
(360dialog adds it), authenticated by ``D360-API-KEY``. Meta's errors pass through as they are, as 360dialog
does; a bad key is 401 in 360dialog's own ``meta`` envelope. ``GET /v1/configs/webhook`` answers the webhook
configuration and serves as the health check.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mocks.facades.common import FACADES, FacadeSettings, build_app, json_response, secure_equal, settings_of, upstream

MAX_BODY = 100 * 1024 * 1024  # 360dialog's overall media cap (§1.4)


def _authorised(request: Request, settings: FacadeSettings) -> bool:
    return secure_equal(request.headers.get("d360-api-key"), settings.api_key)


def _invalid_key() -> Response:
    return json_response({"meta": {"success": False, "http_code": 401, "developer_message": "Invalid api key"}}, 401)


async def _forward(request: Request, path: str) -> Response:
    if not _authorised(request, settings_of(request)):
        return _invalid_key()
    body = await request.body()
    if len(body) > MAX_BODY:
        return json_response({"meta": {"success": False, "http_code": 413, "developer_message": "Too large"}}, 413)
    content_type = request.headers.get("content-type", "application/json")
    status, content = await upstream(request).forward_raw(path, body, content_type)
    return Response(content, status_code=status, media_type="application/json")


async def messages(request: Request) -> Response:
    return await _forward(request, "/messages")


async def media(request: Request) -> Response:
    return await _forward(request, "/media")


async def webhook_config(request: Request) -> Response:
    if not _authorised(request, settings_of(request)):
        return _invalid_key()
    return json_response({"url": ""})


def create_d360_app(settings: FacadeSettings, **kwargs: Any) -> Starlette:
    routes = [
        Route("/messages", messages, methods=["POST"]),
        Route("/media", media, methods=["POST"]),
        Route("/v1/configs/webhook", webhook_config, methods=["GET"]),
    ]
    return build_app(settings, list(routes), **kwargs)


FACADES.add("360dialog", create_d360_app)
