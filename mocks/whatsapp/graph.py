"""The Graph API routes: send (every message type, mark-as-read, typing), media lifecycle, phone number info.

Any ``vNN.N`` version prefix is accepted, and no prefix. The send handler is the mock's hot path: it avoids
pydantic and Starlette conveniences it does not need (see bench/mock_throughput.py for where time goes).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mocks.whatsapp.correlation import find_token_in
from mocks.whatsapp.errors import GraphError, expired_token, unknown_object
from mocks.whatsapp.ledger import LedgerEntry
from mocks.whatsapp.media import MAX_UPLOAD, check_fits
from mocks.whatsapp.state import MockState
from mocks.whatsapp.validation import Send, parse_send

_VERSION = re.compile(r"v\d{1,3}\.\d{1,2}")
_JSON = "application/json"
_SUCCESS = orjson.dumps({"success": True})


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=_JSON)


def authorize(state: MockState, request: Request) -> None:
    header = request.headers.get("authorization")
    if header is None:
        token = request.query_params.get("access_token")
    else:
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("bearer", "oauth"):
            token = header
    auth = state.config.auth
    if not token:
        raise GraphError(
            auth.missing_token_code,
            http_status=auth.missing_token_http_status,
            title="An access token is required to request this resource.",
            with_error_data=False,
        )
    if token in auth.access_tokens:
        return
    if token in auth.expired_tokens:
        raise expired_token()
    raise GraphError(190, http_status=401, with_error_data=False)


def _check_version(request: Request) -> None:
    version = request.path_params.get("version")
    if version is not None and not _VERSION.fullmatch(version):
        raise GraphError(100, title=f"Unknown path components: /{version}", with_error_data=False)


def _phone_number(state: MockState, request: Request) -> str:
    phone_number_id: str = request.path_params["phone_number_id"]
    if phone_number_id not in state.numbers:
        raise unknown_object(phone_number_id)
    return phone_number_id


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return orjson.loads(raw), len(raw)
    except orjson.JSONDecodeError:
        raise GraphError(100, "The request body could not be parsed as JSON.") from None


async def send_message(request: Request) -> Response:
    state: MockState = request.app.state.mock
    _check_version(request)
    authorize(state, request)
    phone_number_id = _phone_number(state, request)
    body, size = await _json_body(request)
    send = parse_send(body)
    if send.kind != "message":
        return Response(_SUCCESS, media_type=_JSON)  # mark-as-read and typing indicator
    entry = _admit(state, phone_number_id, send, size)
    state.accepted(entry)
    contact: dict[str, str] = {"input": send.to or send.recipient or "", "wa_id": entry.wa_id}
    if send.recipient is not None:
        contact["user_id"] = entry.user_id
    return _json(
        {
            "messaging_product": "whatsapp",
            "contacts": [contact],
            "messages": [{"id": entry.wamid, "message_status": "accepted"}],
        }
    )


def _admit(state: MockState, phone_number_id: str, send: Send, size: int) -> LedgerEntry:
    """Apply identity, limiters, window, templates and media checks; build the ledger entry or raise."""
    clock = state.clock
    now, monotonic = clock.now(), clock.monotonic()
    customer = state.customers.resolve(send.to, send.recipient)
    async_error = None
    if not state.customers.on_whatsapp(customer.wa_id):
        if state.config.not_on_whatsapp_mode == "sync":
            raise GraphError(133010, f"Recipient {customer.wa_id} is not a WhatsApp user.")
        async_error = 131026
    limiters = state.limiters
    limiters.check_throughput(phone_number_id, monotonic)
    limiters.check_pair(phone_number_id, customer.wa_id, monotonic)
    number = state.numbers[phone_number_id]
    category = "service"
    window_open = state.customers.window_open(phone_number_id, customer.wa_id, now)
    if send.template is not None:
        category = _check_template(state, send.template)
        if not window_open:
            limiters.check_reach(number.waba_id, customer.user_id, now)
    elif not window_open and limiters.config.enabled and limiters.config.enforce_customer_window:
        raise GraphError(
            131047,
            "Message failed to send because more than 24 hours have passed since the customer last replied to "
            "this number.",
        )
    if send.media is not None:
        kind, media_id = send.media
        media = state.media.get(media_id, now)
        check_fits(kind, media.mime_type, len(media.data), media.data)
    return LedgerEntry(
        arrived_at=now,
        arrived_monotonic=monotonic,
        wamid=state.new_wamid(),
        direction="outbound",
        phone_number_id=phone_number_id,
        recipient=send.to or send.recipient or "",
        type=send.type,
        size_bytes=size,
        correlation_id=find_token_in(send.texts),
        context_message_id=send.context_message_id,
        biz_opaque_callback_data=send.biz_opaque_callback_data,
        wa_id=customer.wa_id,
        user_id=customer.user_id,
        waba_id=number.waba_id,
        category=category,
        async_error_code=async_error,
    )


def _check_template(state: MockState, template: tuple[str, str, int]) -> str:
    """With templates configured, the name/language must exist (132001) and the body parameter count match."""
    if not state.templates:
        return "marketing"
    name, language, body_params = template
    known = state.templates.get((name, language))
    if known is None:
        raise GraphError(132001, f"template name ({name}) does not exist in {language}")
    if known.body_params != body_params:
        raise GraphError(
            132000,
            f"body: number of localizable_params ({body_params}) does not match the expected number of params "
            f"({known.body_params})",
        )
    return known.category


async def upload_media(request: Request) -> Response:
    state: MockState = request.app.state.mock
    _check_version(request)
    authorize(state, request)
    phone_number_id = _phone_number(state, request)
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


def _phone_info(state: MockState, phone_number_id: str) -> dict[str, Any]:
    number = state.numbers[phone_number_id]
    level = "HIGH" if state.limiters.config.throughput_per_second >= 1_000 else "STANDARD"
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
    if not object_id.isdigit():
        raise unknown_object(object_id)
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
    state.media.delete(object_id, state.clock.now())
    return Response(_SUCCESS, media_type=_JSON)


async def download_media(request: Request) -> Response:
    """The byte URL from a media descriptor: needs the access token, 404 once its 5 minutes are over."""
    state: MockState = request.app.state.mock
    authorize(state, request)
    params = request.path_params
    media = state.media.download(params["media_id"], params["expires"], params["signature"], state.clock.now())
    if media is None:
        return Response(b"Not Found", status_code=404, media_type="text/plain")
    return Response(media.data, media_type=media.mime_type)


def graph_routes() -> list[BaseRoute]:
    return [
        Route("/mock-cdn/{media_id}/{expires}/{signature}", download_media, methods=["GET"], name="media_download"),
        Route("/{version}/{phone_number_id}/messages", send_message, methods=["POST"], name="send_message"),
        Route("/{phone_number_id}/messages", send_message, methods=["POST"], name="send_message_unversioned"),
        Route("/{version}/{phone_number_id}/media", upload_media, methods=["POST"], name="upload_media"),
        Route("/{phone_number_id}/media", upload_media, methods=["POST"], name="upload_media_unversioned"),
        Route("/{version}/{object_id}", get_object, methods=["GET"], name="get_object"),
        Route("/{object_id}", get_object, methods=["GET"], name="get_object_unversioned"),
        Route("/{version}/{object_id}", delete_object, methods=["DELETE"], name="delete_object"),
        Route("/{object_id}", delete_object, methods=["DELETE"], name="delete_object_unversioned"),
    ]
