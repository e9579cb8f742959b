"""The reference vendor's own REST API (docs/contracts.md, "Reference SCRM vendor"; OpenAPI in openapi.py)."""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ground.correlation import find_token
from mocks.vendors.graph import GraphError
from mocks.vendors.state import VendorState, new_id
from mocks.vendors.timing import note

WA_ID = r"^\+?[0-9]{6,20}$"
PHONE_ID = r"^[0-9]{1,20}$"  # the Cloud API phone-number id to send from ("from"; default: the vendor's own)
M = TypeVar("M", bound=BaseModel)


class SendText(BaseModel):
    model_config = ConfigDict(extra="ignore")
    to: str = Field(pattern=WA_ID)
    sender: str | None = Field(None, alias="from", pattern=PHONE_ID)
    text: str = Field(min_length=1, max_length=4096)


class SendTemplate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    to: str = Field(pattern=WA_ID)
    sender: str | None = Field(None, alias="from", pattern=PHONE_ID)
    template: str = Field(min_length=1, max_length=512)
    language: str = "en_US"
    params: list[str] = Field(default_factory=list, max_length=20)


class SendMedia(BaseModel):
    model_config = ConfigDict(extra="ignore")
    to: str = Field(pattern=WA_ID)
    sender: str | None = Field(None, alias="from", pattern=PHONE_ID)
    kind: Literal["image", "document", "video", "audio"]
    media_id: str | None = None
    link: str | None = None
    caption: str | None = Field(None, max_length=1024)

    @model_validator(mode="after")
    def _one_source(self) -> SendMedia:
        if (self.media_id is None) == (self.link is None):
            raise ValueError("give exactly one of media_id or link")
        return self


class Broadcast(BaseModel):
    model_config = ConfigDict(extra="ignore")
    template: str = Field(min_length=1)
    language: str = "en_US"
    tag: str = Field(min_length=1)
    params: list[str] = Field(default_factory=list)


class Assign(BaseModel):
    agent: str = Field(min_length=1, max_length=100)


class Tag(BaseModel):
    tag: str = Field(min_length=1, max_length=100)


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def authorized(request: Request) -> bool:
    state: VendorState = request.app.state.vendor
    given = request.headers.get("authorization", "")
    expected = f"Bearer {state.settings.api_key.get_secret_value()}"
    return hmac.compare_digest(given.encode(), expected.encode())


async def parse(request: Request, model: type[M]) -> M | JSONResponse:
    try:
        data = json.loads(await request.body())
        return model.model_validate(data)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and ValidationError are ValueErrors
        detail = (
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            if isinstance(exc, ValidationError)
            else str(exc)
        )
        return error(400, "invalid_request", detail[:500])


def accepted(request: Request, message_id: str, text: str | None) -> JSONResponse:
    """202 for a queued send; the message id and the text's correlation token go on its timing row."""
    note(request, message_id=message_id, correlation_id=find_token(text))
    return JSONResponse({"id": message_id, "status": "queued"}, status_code=202)


def _template_payload(template: str, language: str, params: list[str]) -> dict[str, Any]:
    node: dict[str, Any] = {"name": template, "language": {"code": language}}
    if params:
        node["components"] = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}]
    return {"type": "template", "template": node}


async def send_text(request: Request) -> Response:
    body = await parse(request, SendText)
    if isinstance(body, Response):
        return body
    state: VendorState = request.app.state.vendor
    message_id = state.queue_message(
        body.to.lstrip("+"), "text", body.text, {"type": "text", "text": {"body": body.text}}, from_id=body.sender
    )
    return accepted(request, message_id, body.text)


async def send_template(request: Request) -> Response:
    body = await parse(request, SendTemplate)
    if isinstance(body, Response):
        return body
    state: VendorState = request.app.state.vendor
    text = " ".join([body.template, *body.params])
    payload = _template_payload(body.template, body.language, body.params)
    message_id = state.queue_message(body.to.lstrip("+"), "template", text, payload, from_id=body.sender)
    return accepted(request, message_id, text)


async def send_media(request: Request) -> Response:
    body = await parse(request, SendMedia)
    if isinstance(body, Response):
        return body
    state: VendorState = request.app.state.vendor
    node: dict[str, Any] = {"id": body.media_id} if body.media_id else {"link": body.link}
    if body.caption and body.kind != "audio":
        node["caption"] = body.caption
    message_id = state.queue_message(
        body.to.lstrip("+"), body.kind, body.caption or "", {"type": body.kind, body.kind: node}, from_id=body.sender
    )
    return accepted(request, message_id, body.caption)


async def upload_media(request: Request) -> Response:
    state: VendorState = request.app.state.vendor
    if not state.media_allowed():
        return error(503, "unavailable", "media service is overloaded, try again later")
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception as exc:  # starlette raises its own parse errors for broken multipart bodies
        return error(400, "invalid_request", f"expected multipart/form-data with a 'file' part ({type(exc).__name__})")
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return error(400, "invalid_request", "multipart field 'file' is missing")
    data = await upload.read()
    mime = str(form.get("type") or upload.content_type or "application/octet-stream")
    sender = str(form.get("from") or "")
    if sender and not sender.isdigit():
        return error(400, "invalid_request", "multipart field 'from' must be a phone-number id (digits)")
    try:
        media_id = await state.graph.upload_media(data, mime, upload.filename or "upload", sender or None)
    except GraphError as exc:
        if exc.retryable:  # WhatsApp is down or throttling: try again later
            return error(503, "upstream_unavailable", str(exc)[:500])
        return error(400, "upstream_rejected", str(exc)[:500])  # e.g. a MIME type WhatsApp does not take
    state.store.insert_media(media_id, mime, len(data), state.clock.now())
    return JSONResponse({"media_id": media_id}, status_code=201)


async def start_broadcast(request: Request) -> Response:
    body = await parse(request, Broadcast)
    if isinstance(body, Response):
        return body
    state: VendorState = request.app.state.vendor
    recipients = state.store.tagged_contacts(body.tag)
    broadcast_id = new_id("bc")
    state.store.insert_broadcast(broadcast_id, body.model_dump(), len(recipients), state.clock.now())
    task = asyncio.create_task(_run_broadcast(state, broadcast_id, body, recipients))
    state.tasks.append(task)
    task.add_done_callback(state.tasks.remove)  # a soak with many broadcasts must not grow this list
    return JSONResponse({"id": broadcast_id, "total": len(recipients)}, status_code=202)


async def _run_broadcast(state: VendorState, broadcast_id: str, body: Broadcast, recipients: list[str]) -> None:
    """The broadcast job: queue one message per recipient, yielding between chunks so the API stays responsive."""
    payload = _template_payload(body.template, body.language, body.params)
    text = " ".join([body.template, *body.params])
    for index, wa_id in enumerate(recipients):
        state.queue_message(wa_id, "template", text, payload, broadcast_id=broadcast_id)
        if index % 200 == 199:
            await asyncio.sleep(0)


async def broadcast_status(request: Request) -> Response:
    state: VendorState = request.app.state.vendor
    progress = state.store.broadcast_progress(request.path_params["id"])
    if progress is None:
        return error(404, "not_found", "no such broadcast")
    return JSONResponse(progress)


async def message_status(request: Request) -> Response:
    state: VendorState = request.app.state.vendor
    message = state.store.get_message(request.path_params["id"])
    if message is None:
        return error(404, "not_found", "no such message")
    return JSONResponse(message)


async def conversations(request: Request) -> Response:
    state: VendorState = request.app.state.vendor
    q = request.query_params.get("q", "")
    try:
        limit = int(request.query_params.get("limit", "20"))
    except ValueError:
        return error(400, "invalid_request", "limit must be an integer")
    if not 1 <= limit <= 500:
        return error(400, "invalid_request", "limit must be between 1 and 500")
    items, total = state.store.search_conversations(q, limit)
    return JSONResponse({"items": items, "total": total})


async def assign(request: Request) -> Response:
    body = await parse(request, Assign)
    if isinstance(body, Response):
        return body
    state: VendorState = request.app.state.vendor
    try:
        conversation_id = int(request.path_params["id"])
    except ValueError:
        return error(404, "not_found", "no such conversation")
    if not state.store.assign(conversation_id, body.agent):
        return error(404, "not_found", "no such conversation")
    return JSONResponse({"id": conversation_id, "agent": body.agent})


async def tag_contact(request: Request) -> Response:
    body = await parse(request, Tag)
    if isinstance(body, Response):
        return body
    state: VendorState = request.app.state.vendor
    wa_id = request.path_params["wa_id"]
    return JSONResponse({"wa_id": wa_id, "tags": state.store.add_tag(wa_id, body.tag, state.clock.now())})
