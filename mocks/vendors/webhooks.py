"""The WhatsApp webhook receiver: verify, store idempotently, answer at once, process afterwards.

Order of checks, cheapest and most hostile first: size (Meta caps payloads at 3 MB, so a larger body is not
WhatsApp), signature over the exact raw bytes (``X-Hub-Signature-256``), JSON shape. Storage is idempotent by
wamid and by (wamid, status), so a replayed delivery is acknowledged (WhatsApp would retry otherwise) and
ignored. Auto-replies and assignment happen in a background task, so the acknowledgement stays fast.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from mocks.vendors.state import VendorState, new_id

log = logging.getLogger(__name__)


def signature_of(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The raw body, or None as soon as it passes ``limit`` bytes (never buffer a hostile upload whole)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def verify_handshake(request: Request) -> Response:
    state: VendorState = request.app.state.vendor
    params = request.query_params
    expected = state.settings.verify_token.get_secret_value()
    if params.get("hub.mode") == "subscribe" and hmac.compare_digest(params.get("hub.verify_token", ""), expected):
        return PlainTextResponse(params.get("hub.challenge", ""))
    return _error(403, "forbidden", "verify token does not match")


async def receive(request: Request) -> Response:
    state: VendorState = request.app.state.vendor
    counts = state.webhook_counts
    body = await _read_limited(request, state.settings.max_webhook_bytes)
    if body is None:
        counts["too_large"] += 1
        return _error(413, "too_large", f"webhook bodies are at most {state.settings.max_webhook_bytes} bytes")
    given = request.headers.get("x-hub-signature-256", "")
    expected = signature_of(body, state.settings.app_secret.get_secret_value())
    if not hmac.compare_digest(given.encode(), expected.encode()):
        counts["rejected_signature"] += 1
        return _error(401, "bad_signature", "X-Hub-Signature-256 does not match the body")
    try:
        document = json.loads(body)
        events = list(_events(document))
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError):
        counts["malformed"] += 1
        return _error(400, "malformed", "body is not a WhatsApp webhook (object/entry/changes/value)")
    new = 0
    for kind, item, contacts, number in events:
        try:
            new += _store_event(state, kind, item, contacts, number)
        except (ValueError, TypeError, AttributeError, KeyError):
            counts["malformed"] += 1  # one bad item in a batch must not reject the good ones
    counts["accepted"] += 1
    counts["replayed"] += len(events) - new
    return JSONResponse({"received": len(events), "new": new})


def _events(document: Any) -> Any:
    if not isinstance(document, dict) or not isinstance(document.get("entry"), list):
        raise ValueError("no entry list")
    for entry in document["entry"]:
        for change in entry["changes"]:
            value = change["value"]
            if not isinstance(value, dict):
                raise ValueError("value is not an object")
            contacts = value.get("contacts") or []
            metadata = value.get("metadata")
            # The business number the customer wrote to: the auto-reply goes out from it.
            number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            number = str(number) if number else None
            for message in value.get("messages") or []:
                yield "message", message, contacts, number
            for status in value.get("statuses") or []:
                yield "status", status, contacts, number


def _text_of(message: dict[str, Any]) -> str:
    kind = message.get("type", "text")
    node = message.get(kind)
    if kind == "text" and isinstance(node, dict):
        return str(node.get("body", ""))
    if kind == "interactive" and isinstance(node, dict):
        reply = node.get("button_reply") or node.get("list_reply") or {}
        return str(reply.get("title", ""))
    if kind == "button" and isinstance(node, dict):
        return str(node.get("text", ""))
    if isinstance(node, dict):
        return str(node.get("caption", ""))
    return ""


def _store_event(
    state: VendorState, kind: str, item: dict[str, Any], contacts: list[Any], number: str | None = None
) -> int:
    now = state.clock.now()
    if kind == "status":
        errors = item.get("errors") or []
        error = json.dumps(errors[0])[:500] if errors else None
        return int(state.store.insert_status(str(item["id"]), str(item["status"]), now, error))
    contact = contacts[0] if contacts and isinstance(contacts[0], dict) else {}
    # Username-only customers (2026) may come without a phone number: their BSUID (user_id) identifies them.
    wa_id = str(item.get("from") or contact.get("wa_id") or contact.get("user_id") or item.get("from_user_id") or "")
    if not wa_id:
        raise ValueError("message without sender")
    if number:
        state.graph.note_customer(wa_id, number)  # agents' replies go out from the number written to
    name = None
    if contacts and isinstance(contacts[0], dict):
        name = (contacts[0].get("profile") or {}).get("name")
    text = _text_of(item)
    stored = state.store.insert_inbound(
        message_id=new_id("in"),
        wamid=str(item["id"]),
        wa_id=wa_id,
        name=name,
        kind=str(item.get("type")),
        body=text,
        at=now,
    )
    if stored is None:
        return 0
    conversation_id, created = stored
    state.inbox.put_nowait(
        {
            "wamid": str(item["id"]),
            "wa_id": wa_id,
            "text": text,
            "conversation": conversation_id,
            "new": created,
            "phone_number_id": number,
        }
    )
    return 1


async def process_inbox(state: VendorState) -> None:
    """Background: route conversations that open (``desk.Desk`` once an agent is online), answer keywords through
    the outbound queue, quoting the message."""
    while True:
        event = await state.inbox.get()
        try:
            if state.desk.staffed:
                if not state.desk.is_open(event["conversation"]):
                    made = state.desk.arrive(event["conversation"], event["wa_id"], event["text"], state.clock.now())
                    state.apply_assignments(made)
            elif event["new"]:
                state.store.assign(event["conversation"], state.assigner.pick())
            reply = state.auto_replies.reply_for(event["text"])
            if reply is not None:
                state.queue_message(
                    event["wa_id"],
                    "text",
                    reply,
                    {"type": "text", "text": {"body": reply}, "context": {"message_id": event["wamid"]}},
                    from_id=event.get("phone_number_id"),
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("inbound processing failed for %s", event.get("wamid"))
