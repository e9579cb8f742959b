"""The Graph API routes besides sending: media lifecycle, phone number and WABA info, templates, and the route
table (``send_routes`` first: the send path in send.py is the hot path and should be matched first).

Any ``vNN.N`` version prefix is accepted, and no prefix. In a sharded mock, a request for a phone number or media
id another shard owns is relayed there once.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mocks.whatsapp.auth import check_token, token_from
from mocks.whatsapp.errors import GraphError, unknown_object
from mocks.whatsapp.marketing import marketing_messages
from mocks.whatsapp.media import MAX_UPLOAD
from mocks.whatsapp.send import SendMessage
from mocks.whatsapp.shards import FORWARDED
from mocks.whatsapp.state import MockState

_JSON = "application/json"
_SUCCESS = orjson.dumps({"success": True})


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=_JSON)


def authorize(state: MockState, request: Request) -> None:
    check_token(state.config.auth, token_from(request.headers.get("authorization"), request.scope["query_string"]))


def _check_version(request: Request) -> None:
    """Unknown versions raise Graph's error; expired ones are served by the oldest usable version (versions.py)."""
    version = request.path_params.get("version")
    if version is not None:
        request.app.state.mock.served_version_text(version)


def _phone_number(state: MockState, request: Request) -> str:
    phone_number_id = str(request.path_params["phone_number_id"])
    if phone_number_id not in state.numbers:
        raise unknown_object(phone_number_id)
    return phone_number_id


async def upload_media(request: Request) -> Response:
    state: MockState = request.app.state.mock
    _check_version(request)
    authorize(state, request)
    phone_number_id = _phone_number(state, request)
    owner = _owner_elsewhere(state, number=phone_number_id)
    if owner is not None:
        return await _relayed(state, request, owner)
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_UPLOAD + 64 * 1024:
        raise GraphError(131053, f"Media upload error: {length} bytes is over the 100 MB limit.")
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise GraphError(100, "Media upload needs multipart/form-data with fields file, type and messaging_product.")
    try:
        form = await request.form(max_files=1, max_fields=16)
    except Exception as exc:  # python-multipart and Starlette raise several types for malformed bodies
        raise GraphError(100, f"The multipart body could not be parsed ({type(exc).__name__}).") from None
    try:
        if form.get("messaging_product") != "whatsapp":
            raise GraphError(131008, "The parameter messaging_product is required and must be 'whatsapp'.")
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise GraphError(131008, "The parameter file is required.")
        declared = form.get("type")
        mime_type = declared if isinstance(declared, str) and declared else (upload.content_type or "")
        data = await upload.read()
        media = state.media.put(
            phone_number_id, mime_type.split(";")[0].strip(), data, state.clock.now(), upload.filename or ""
        )
    finally:
        await form.close()
    return _json({"id": media.id})


async def _relayed(state: MockState, request: Request, shard: int) -> Response:
    if request.headers.get(FORWARDED):
        raise GraphError(131000, f"request was forwarded to shard {state.shards.index}, which does not own it")
    body = await request.body()
    headers = [(name, value) for name, value in request.headers.items()]
    answer = await state.shards.relay(
        shard, request.method, request.url.path, request.scope["query_string"], headers, body, FORWARDED
    )
    return Response(answer.body, status_code=answer.status, headers=dict(answer.headers))


def _owner_elsewhere(state: MockState, *, number: str | None = None, media_id: str | None = None) -> int | None:
    """The shard to forward to, or None when this process owns the object (or the mock is not sharded)."""
    shards = state.shards
    if not shards.active:
        return None
    owner = shards.number_owner(number) if number is not None else shards.media_owner(media_id or "")
    return None if owner == shards.index else owner


def _phone_info(state: MockState, phone_number_id: str) -> dict[str, Any]:
    number = state.numbers[phone_number_id]
    level = state.limiters.level_of(phone_number_id)
    return {
        "verified_name": number.verified_name,
        "code_verification_status": "VERIFIED",
        "display_phone_number": number.display_phone_number,
        "quality_rating": number.quality_rating,
        "platform_type": "CLOUD_API",
        "throughput": {"level": level},
        "id": number.id,
    }


async def get_object(request: Request) -> Response:
    """``GET /{id}``: a phone number's info, or a media descriptor with a fresh 5-minute download URL."""
    state: MockState = request.app.state.mock
    _check_version(request)
    authorize(state, request)
    object_id: str = request.path_params["object_id"]
    if object_id in state.numbers:
        return _json(_phone_info(state, object_id))
    if object_id in {number.waba_id for number in state.numbers.values()}:
        _waba(state, request)
        return _json({"id": object_id, "name": "scrmbench mock WABA", "currency": "USD", "timezone_id": "1"})
    if not object_id.isdigit():
        raise unknown_object(object_id)
    owner = _owner_elsewhere(state, media_id=object_id)
    if owner is not None:
        return await _relayed(state, request, owner)
    now = state.clock.now()
    media = state.media.get(object_id, now)
    base = str(request.base_url).rstrip("/")
    return _json(
        {
            "messaging_product": "whatsapp",
            "url": base + state.media.url_path(media, now),
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": len(media.data),
            "id": media.id,
        }
    )


async def delete_object(request: Request) -> Response:
    state: MockState = request.app.state.mock
    _check_version(request)
    authorize(state, request)
    object_id: str = request.path_params["object_id"]
    if not object_id.isdigit() or object_id in state.numbers:
        raise unknown_object(object_id)
    owner = _owner_elsewhere(state, media_id=object_id)
    if owner is not None:
        return await _relayed(state, request, owner)
    state.media.delete(object_id, state.clock.now())
    return Response(_SUCCESS, media_type=_JSON)


async def download_media(request: Request) -> Response:
    """The byte URL from a media descriptor: needs the access token, 404 once its 5 minutes are over."""
    state: MockState = request.app.state.mock
    authorize(state, request)
    params = request.path_params
    owner = _owner_elsewhere(state, media_id=params["media_id"])
    if owner is not None:
        return await _relayed(state, request, owner)
    media = state.media.download(params["media_id"], params["expires"], params["signature"], state.clock.now())
    if media is None:
        return Response(b"Not Found", status_code=404, media_type="text/plain")
    return Response(media.data, media_type=media.mime_type)


def _waba(state: MockState, request: Request) -> str:
    """The WABA of a management call, counted against the WABA's hourly allowance (80007 past it)."""
    waba_id = str(request.path_params.get("waba_id", request.path_params.get("object_id")))
    if waba_id not in {number.waba_id for number in state.numbers.values()}:
        raise unknown_object(waba_id)
    state.limiters.check_management(waba_id, state.clock.monotonic())
    return waba_id


def _paged(data: list[dict[str, Any]]) -> Response:
    return _json({"data": data, "paging": {"cursors": {"before": "QVFIUmFz", "after": "QVFIUmFz"}}})


async def message_templates(request: Request) -> Response:
    """``GET /{waba_id}/message_templates``: the configured templates, all approved, in Graph's paging shape."""
    state: MockState = request.app.state.mock
    _check_version(request)
    authorize(state, request)
    _waba(state, request)
    templates = state.config.templates
    return _paged(
        [
            {
                "name": t.name,
                "language": t.language,
                "status": "APPROVED",
                "category": t.category.upper(),
                "id": str(10**15 + i),
            }
            for i, t in enumerate(templates)
        ]
    )


async def waba_phone_numbers(request: Request) -> Response:
    """``GET /{waba_id}/phone_numbers``: the WABA's numbers with the fields of ``GET /{phone_number_id}``."""
    state: MockState = request.app.state.mock
    _check_version(request)
    authorize(state, request)
    waba_id = _waba(state, request)
    return _paged([_phone_info(state, n.id) for n in state.numbers.values() if n.waba_id == waba_id])


def send_routes() -> list[BaseRoute]:
    endpoint = SendMessage()
    """First in the route list: the hot path should not be matched against every other route first. The numeric
    id and ``vNN.N`` prefix keep these from swallowing ``/_mock/.../messages`` routes of plug-ins."""
    return [
        Route("/v{major:int}.{minor:int}/{phone_number_id:int}/messages", endpoint, methods=["POST"], name="send"),
        Route("/{phone_number_id:int}/messages", endpoint, methods=["POST"], name="send_unversioned"),
        Route(
            "/v{major:int}.{minor:int}/{phone_number_id:int}/marketing_messages",
            marketing_messages,
            methods=["POST"],
            name="marketing_messages",
        ),
        Route(
            "/{phone_number_id:int}/marketing_messages",
            marketing_messages,
            methods=["POST"],
            name="marketing_messages_unversioned",
        ),
    ]


def graph_routes() -> list[BaseRoute]:
    return [
        Route("/mock-cdn/{media_id}/{expires}/{signature}", download_media, methods=["GET"], name="media_download"),
        Route("/{version}/{phone_number_id:int}/media", upload_media, methods=["POST"], name="upload_media"),
        Route("/{phone_number_id:int}/media", upload_media, methods=["POST"], name="upload_media_unversioned"),
        Route("/{version}/{waba_id:int}/message_templates", message_templates, methods=["GET"], name="templates"),
        Route("/{waba_id:int}/message_templates", message_templates, methods=["GET"], name="templates_unversioned"),
        Route("/{version}/{waba_id:int}/phone_numbers", waba_phone_numbers, methods=["GET"], name="waba_numbers"),
        Route("/{waba_id:int}/phone_numbers", waba_phone_numbers, methods=["GET"], name="waba_numbers_unversioned"),
        Route("/{version}/{object_id}", get_object, methods=["GET"], name="get_object"),
        Route("/{object_id}", get_object, methods=["GET"], name="get_object_unversioned"),
        Route("/{version}/{object_id}", delete_object, methods=["DELETE"], name="delete_object"),
        Route("/{object_id}", delete_object, methods=["DELETE"], name="delete_object_unversioned"),
    ]
