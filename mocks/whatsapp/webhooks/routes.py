"""Control-plane routes of the webhook engine (admin token required, like every ``/_mock/`` route).

    POST   /_mock/subscriptions               {"callback_url", "verify_token", "app_secret"?, "phone_number_id"?,
                                               "waba_id"?, "skip_verification"?} -> 201 with the handshake result
    GET    /_mock/subscriptions               -> {"subscriptions": [...]} (app secrets never shown)
    DELETE /_mock/subscriptions/{id}          -> 200; queued webhooks for it are abandoned
    POST   /_mock/subscriptions/{id}/verify   -> re-run the handshake (a vendor that started after the mock)
    POST   /_mock/customers/messages          one message: SYNCHRONOUS by default, answers 200 once the first
                                               POST to the receiver returned: {"id", "delivered_at", "status",
                                               "wa_id", "user_id", "deliveries"}; with "wait": false, 202 {"id"}
                                               and delivery is queued.
                                              {"messages": [...]} or {"generate": {"count": N, ...}}: the BATCH
                                               form, always QUEUED: 202 {"ids": [...], "queued", "dropped"}.
    GET    /_mock/webhooks/attempts?since=&format=ndjson|parquet   rows of WEBHOOK_ATTEMPT_SCHEMA; records dropped
                                               past attempts_max_rows are counted in the Parquet schema metadata
                                               and the NDJSON headers (attempts.py)
    GET    /_mock/webhooks/stats              queue depth, in-flight POSTs, lag percentiles, counters

Sharded mock (``--workers N``): subscription changes are repeated on every shard under one id; a customer
message goes to the shard that owns its phone number (batches are split by owner); attempts and stats are
merged from all shards, so the harness can keep talking to the base port.

``delivered_at`` is the wall-clock time the accepted POST was sent (null when the receiver did not answer 200;
the mock keeps retrying and fills the ledger in later). ``status`` is the receiver's HTTP status, 0 for none.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ground.errors import ConfigError
from mocks.whatsapp.control import _admin, _body, _invalid, _json, _others, _since
from mocks.whatsapp.errors import GraphError, unknown_object
from mocks.whatsapp.shards import FORWARDED, Relayed
from mocks.whatsapp.webhooks.attempts import (
    EVICTED_HEADER,
    EVICTED_KEY,
    EVICTED_UNTIL_HEADER,
    EVICTED_UNTIL_KEY,
    merged_eviction,
)
from mocks.whatsapp.webhooks.config import SubscriptionConfig
from mocks.whatsapp.webhooks.engine import WebhookEngine
from mocks.whatsapp.webhooks.inbound import CustomerMessage

EXTENSION = "webhooks"
SUBSCRIPTION_ID = "x-mock-subscription-id"  # the id a shard gave a subscription, repeated to the other shards
BATCH_MAX = 100_000  # customer messages per call
COMPOSE_CHUNK = 100  # batch messages composed between two yields to the event loop
_NOT_SUMMED = ("shard", "queue_max", "attempt_records_evicted_until")


class Generate(BaseModel):
    """``{"generate": {...}}``: ``count`` simulated customers (seeded) each send one message."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=BATCH_MAX)
    start_index: int = Field(default=0, ge=0)  # customers start_index .. start_index + count - 1
    phone_number_id: str | None = None
    text: str | None = None  # default: each customer's own language
    intent: int | None = Field(default=None, ge=0)  # 0 = "do you have a discount code?" in their language


def _engine(request: Request) -> WebhookEngine:
    state = _admin(request)
    engine = state.extensions.get(EXTENSION)
    if not isinstance(engine, WebhookEngine):
        raise GraphError(100, "The webhook engine is not running (the app's lifespan did not start).", http_status=503)
    return engine


def _parse(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from None


async def add_subscription(request: Request) -> Response:
    engine = _engine(request)
    raw = await request.body()
    spec = _parse(SubscriptionConfig, await _body(request))
    try:
        sub = await engine.subscribe(spec, request.headers.get(SUBSCRIPTION_ID))
    except ConfigError as exc:
        raise GraphError(100, str(exc)) from None
    await _others(request, engine.state, raw, **{SUBSCRIPTION_ID: sub.id})
    return _json(sub.public(), status=201)


async def list_subscriptions(request: Request) -> Response:
    engine = _engine(request)
    return _json({"subscriptions": [sub.public() for sub in engine.subscriptions.all()]})


async def delete_subscription(request: Request) -> Response:
    engine = _engine(request)
    sub_id = request.path_params["sub_id"]
    if not engine.subscriptions.remove(sub_id):
        raise unknown_object(sub_id)
    await _others(request, engine.state)
    return _json({"deleted": sub_id})


async def verify_subscription(request: Request) -> Response:
    engine = _engine(request)
    sub = engine.subscriptions.get(request.path_params["sub_id"])
    if sub is None:
        raise unknown_object(request.path_params["sub_id"])
    await engine.verify(sub)
    await _others(request, engine.state)
    return _json(sub.public())


def _owner(engine: WebhookEngine, request: Request, phone_number_id: str | None) -> int | None:
    """The shard that owns the message's number, or None when it is this one (or the mock is not sharded)."""
    shards = engine.state.shards
    if not shards.active or request.headers.get(FORWARDED):
        return None
    owner = shards.number_owner(phone_number_id or next(iter(engine.state.numbers)))
    return None if owner == shards.index else owner


async def _relay(request: Request, engine: WebhookEngine, shard: int, body: dict[str, Any]) -> Relayed:
    headers = list(request.headers.items())
    path = request.url.path
    return await engine.state.shards.relay(shard, "POST", path, b"", headers, orjson.dumps(body), FORWARDED)


def _relayed(answer: Relayed) -> Response:
    return Response(answer.body, status_code=answer.status, media_type="application/json")


async def _batch_messages(engine: WebhookEngine, body: dict[str, Any]) -> list[CustomerMessage]:
    if "generate" in body:
        gen = _parse(Generate, body["generate"])
        if gen.count > engine.settings.customer_batch_max:
            limit = engine.settings.customer_batch_max
            raise GraphError(100, f"generate.count {gen.count} is over webhooks.customer_batch_max ({limit})")
        messages = []
        for index in range(gen.start_index, gen.start_index + gen.count):
            message = CustomerMessage(customer_index=index, phone_number_id=gen.phone_number_id, text=gen.text)
            if gen.intent is not None and gen.text is None:
                message.text = engine.customers.text(engine.customers.customer(index), intent=gen.intent)
            messages.append(message)
            if len(messages) % COMPOSE_CHUNK == 0:
                await asyncio.sleep(0)
        return messages
    raw = body.get("messages")
    limit = engine.settings.customer_batch_max
    if not isinstance(raw, list) or not 1 <= len(raw) <= limit:
        raise GraphError(100, f"field 'messages' must be a list of 1 to {limit} customer messages")
    parsed = []
    for item in raw:
        parsed.append(_parse(CustomerMessage, item))
        if len(parsed) % COMPOSE_CHUNK == 0:
            await asyncio.sleep(0)
    return parsed


async def _batch(request: Request, engine: WebhookEngine, body: dict[str, Any]) -> Response:
    """Composed in chunks of COMPOSE_CHUNK messages with the event loop let run between them, so a burst of
    thousands never stalls the Graph routes or the control plane (about 0.1 ms per message)."""
    messages = await _batch_messages(engine, body)
    groups: dict[int | None, list[int]] = {}
    for position, message in enumerate(messages):
        groups.setdefault(_owner(engine, request, message.phone_number_id), []).append(position)
    ids: list[str] = [""] * len(messages)
    queued = 0
    for owner, positions in groups.items():
        if owner is None:
            for done, position in enumerate(positions, start=1):
                result = engine.enqueue(messages[position])
                ids[position], queued = result["id"], queued + bool(result["queued"])
                if done % COMPOSE_CHUNK == 0:
                    await asyncio.sleep(0)
            continue
        part = [messages[p].model_dump(by_alias=True, exclude_none=True) for p in positions]
        answer = await _relay(request, engine, owner, {"messages": part})
        if answer.status != 202:
            return _relayed(answer)
        data = orjson.loads(answer.body)
        for position, wamid in zip(positions, data["ids"], strict=True):
            ids[position] = wamid
        queued += data["queued"]
    return _json({"ids": ids, "queued": queued, "dropped": len(ids) - queued}, status=202)


async def customer_messages(request: Request) -> Response:
    engine = _engine(request)
    body = await _body(request)
    if not isinstance(body, dict):
        raise GraphError(100, "The body must be a JSON object: one customer message, or {'messages': [...]}.")
    if "messages" in body or "generate" in body:
        return await _batch(request, engine, body)
    owner = _owner(engine, request, body.get("phone_number_id"))
    if owner is not None:
        return _relayed(await _relay(request, engine, owner, body))
    wait = body.pop("wait", True)
    message = _parse(CustomerMessage, body)
    if wait is False:
        result = engine.enqueue(message)
        return _json({"id": result["id"], "wa_id": result["wa_id"], "queued": result["queued"]}, status=202)
    return _json(await engine.send_and_wait(message))


async def attempts(request: Request) -> Response:
    engine = _engine(request)
    since = _since(request)
    kind = request.query_params.get("format", "ndjson")
    if kind not in ("ndjson", "parquet"):
        raise GraphError(100, f"Param format must be ndjson or parquet, got {kind!r}.")
    others = await _others(request, engine.state)
    log = engine.dispatcher.log
    if kind == "parquet":
        table = log.to_table(since)
        if others:
            tables = [table, *(pq.read_table(io.BytesIO(answer.body)) for answer in others)]
            eviction = merged_eviction(t.schema.metadata for t in tables)
            table = pa.concat_tables([t.replace_schema_metadata(None) for t in tables]).sort_by("sent_at")
            table = table.replace_schema_metadata(eviction)
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return Response(buffer.getvalue(), media_type="application/vnd.apache.parquet")
    local = log.to_ndjson(since)
    eviction = merged_eviction([log.metadata(), *(_header_eviction(answer.headers) for answer in others)])
    headers = {
        EVICTED_HEADER: eviction[EVICTED_KEY].decode(),
        EVICTED_UNTIL_HEADER: eviction[EVICTED_UNTIL_KEY].decode(),
    }
    if not others:
        return Response(local, media_type="application/x-ndjson", headers=headers)
    lines = [line for chunk in (local, *(answer.body for answer in others)) for line in chunk.splitlines() if line]
    lines.sort(key=lambda line: orjson.loads(line)["sent_at"])
    return Response(b"".join(line + b"\n" for line in lines), media_type="application/x-ndjson", headers=headers)


def _header_eviction(headers: Any) -> dict[bytes, bytes]:
    """A shard's NDJSON answer headers as eviction metadata."""
    found = {str(key).lower(): str(value) for key, value in dict(headers or {}).items()}
    return {
        EVICTED_KEY: found.get(EVICTED_HEADER, "0").encode(),
        EVICTED_UNTIL_KEY: found.get(EVICTED_UNTIL_HEADER, "").encode(),
    }


async def stats(request: Request) -> Response:
    engine = _engine(request)
    local = {"shard": engine.state.config.shard_index, **engine.stats()}
    others = await _others(request, engine.state)
    if not others:
        return _json(local)
    shards = [local, *(orjson.loads(answer.body) for answer in others)]
    totals = {
        key: sum(shard.get(key) or 0 for shard in shards)
        for key, value in local.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and key not in _NOT_SUMMED
    }
    untils = [shard["attempt_records_evicted_until"] for shard in shards if shard.get("attempt_records_evicted_until")]
    totals["attempt_records_evicted_until"] = max(untils) if untils else None
    return _json({**totals, "shards": shards})


def webhook_routes() -> list[BaseRoute]:
    return [
        Route("/_mock/subscriptions", add_subscription, methods=["POST"], name="mock_add_subscription"),
        Route("/_mock/subscriptions", list_subscriptions, methods=["GET"], name="mock_list_subscriptions"),
        Route("/_mock/subscriptions/{sub_id}", delete_subscription, methods=["DELETE"], name="mock_del_subscription"),
        Route("/_mock/subscriptions/{sub_id}/verify", verify_subscription, methods=["POST"], name="mock_verify_sub"),
        Route("/_mock/customers/messages", customer_messages, methods=["POST"], name="mock_customer_messages"),
        Route("/_mock/webhooks/attempts", attempts, methods=["GET"], name="mock_webhook_attempts"),
        Route("/_mock/webhooks/stats", stats, methods=["GET"], name="mock_webhook_stats"),
    ]
