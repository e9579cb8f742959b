"""The control plane under ``/_mock/`` (docs/contracts.md): its own token, never mixed with Graph routes.

Errors use Graph's envelope too (code 100 for a bad body, 190 for a bad admin token, 100/33 for an unknown id),
so every answer the mock gives has one shape.
"""

from __future__ import annotations

import hmac
import io
import os
from typing import Any

import orjson
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from mocks.whatsapp.errors import GraphError, unknown_object
from mocks.whatsapp.faults import FaultSpec
from mocks.whatsapp.health import worst
from mocks.whatsapp.shards import FAULT_ID, LOCAL, Relayed
from mocks.whatsapp.state import MockState

_JSON = "application/json"


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=_JSON)


def _admin(request: Request) -> MockState:
    state: MockState = request.app.state.mock
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), state.config.admin_token.encode()):
        raise GraphError(
            190,
            http_status=401,
            title="The control plane needs Authorization: Bearer <admin token> (default mock-admin-token).",
            with_error_data=False,
        )
    return state


def _since(request: Request) -> float | None:
    raw = request.query_params.get("since")
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError:
        raise GraphError(100, f"Param since must be Unix seconds, got {raw!r}.") from None
    if value != value:  # NaN
        raise GraphError(100, "Param since must be a number, got NaN.")
    return value


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise GraphError(100, "The request body must be JSON.") from None


async def _others(request: Request, state: MockState, body: bytes = b"", **extra: str) -> list[Relayed]:
    """Repeat this control request on the other shards (sharded mock only; never for a repeated request)."""
    if not state.shards.active or request.headers.get(LOCAL):
        return []
    headers = [(name, value) for name, value in request.headers.items()] + list(extra.items())
    return await state.shards.to_others(request.method, request.url.path, request.scope["query_string"], headers, body)


def _invalid(exc: ValidationError) -> GraphError:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(body)"
    return GraphError(100, f"field '{field}': {first['msg']}")


async def health(request: Request) -> Response:
    state: MockState = request.app.state.mock
    return _json({"status": "ok", "shard": state.config.shard_index, "phone_numbers": list(state.numbers)})


async def ledger(request: Request) -> Response:
    state = _admin(request)
    since = _since(request)
    kind = request.query_params.get("format", "ndjson")
    if kind not in ("ndjson", "parquet"):
        raise GraphError(100, f"Param format must be ndjson or parquet, got {kind!r}.")
    others = await _others(request, state)
    if kind == "parquet":
        table = state.ledger.table_since(since)
        if others:
            tables = [table, *(pq.read_table(io.BytesIO(answer.body)) for answer in others)]
            table = pa.concat_tables(tables).sort_by("arrived_at")
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return Response(buffer.getvalue(), media_type="application/vnd.apache.parquet")
    if others:
        merged = list(state.ledger.records_since(since))
        merged += [orjson.loads(line) for answer in others for line in answer.body.splitlines() if line]
        merged.sort(key=lambda record: record["arrived_at"])
        return Response(b"".join(orjson.dumps(record) + b"\n" for record in merged), media_type="application/x-ndjson")
    records = state.ledger.records_since(since)
    return StreamingResponse((orjson.dumps(record) + b"\n" for record in records), media_type="application/x-ndjson")


async def reset(request: Request) -> Response:
    state = _admin(request)
    state.reset()
    await _others(request, state)
    return _json({"status": "reset"})


async def add_fault(request: Request) -> Response:
    state = _admin(request)
    body = await _body(request)
    if not isinstance(body, dict):
        raise GraphError(100, "The body must be a JSON object describing one fault.")
    try:
        spec = FaultSpec.model_validate(body)
    except ValidationError as exc:
        raise _invalid(exc) from None
    fault_id = state.add_fault(spec, fault_id=request.headers.get(FAULT_ID))
    await _others(request, state, orjson.dumps(body), **{FAULT_ID: fault_id})
    return _json({"id": fault_id}, status=201)


async def list_faults(request: Request) -> Response:
    state = _admin(request)
    now = state.clock.now()
    return _json({"faults": [fault.describe(now) for fault in state.faults.faults.values()]})


async def delete_fault(request: Request) -> Response:
    state = _admin(request)
    fault_id = request.path_params["fault_id"]
    if not state.remove_fault(fault_id):
        raise unknown_object(fault_id)
    await _others(request, state)
    return _json({"deleted": fault_id})


async def clear_faults(request: Request) -> Response:
    state = _admin(request)
    deleted = state.clear_faults()
    await _others(request, state)
    return _json({"deleted": deleted})


def _limits_view(state: MockState) -> dict[str, Any]:
    return {
        **state.limiters.config.model_dump(),
        "rate_limit_http_status": state.config.rate_limit_http_status,
        "reach": {key: state.limiters.reach_count(key) for key in _reach_keys(state)},
        "tiers": {key: state.limiters.tier_of(key) for key in _reach_keys(state)},
        "throughput_levels": {number_id: state.limiters.level_of(number_id) for number_id in state.numbers},
    }


def _reach_keys(state: MockState) -> list[str]:
    return sorted({state.limiters.reach_key(number_id) for number_id in state.numbers})


async def throughput_upgrade(request: Request) -> Response:
    """``POST /_mock/numbers/{id}/throughput_upgrade``: start the upgrade to 1,000 msg/s now (131057 meanwhile)."""
    state = _admin(request)
    number_id = request.path_params["phone_number_id"]
    if number_id not in state.numbers:
        raise unknown_object(number_id)
    started = state.start_throughput_upgrade(number_id)
    return _json(
        {
            "phone_number_id": number_id,
            "started": started,
            "upgrading": state.limiters.upgrading(number_id),
            "duration_s": state.limiters.config.throughput_upgrade_s,
            "level": state.limiters.level_of(number_id),
        }
    )


async def get_limits(request: Request) -> Response:
    return _json(_limits_view(_admin(request)))


async def patch_limits(request: Request) -> Response:
    state = _admin(request)
    body = await _body(request)
    if not isinstance(body, dict):
        raise GraphError(100, "The body must be a JSON object of limiter settings.")
    current = state.limiters.config.model_dump()
    if "throughput" in body and "throughput_per_second" not in body:
        current.pop("throughput_per_second")  # the preset names the rate
    elif "throughput_per_second" in body and "throughput" not in body:
        current["throughput"] = None  # a number replaces the preset it came from
    merged = {**current, **body}
    try:
        limits = type(state.limiters.config).model_validate(merged)
    except ValidationError as exc:
        raise _invalid(exc) from None
    state.set_limits(limits)
    await _others(request, state, orjson.dumps(body))
    return _json(_limits_view(state))


async def events(request: Request) -> Response:
    state = _admin(request)
    merged = state.events.since(_since(request))
    for answer in await _others(request, state):
        merged += orjson.loads(answer.body)["events"]
    if state.shards.active:
        merged.sort(key=lambda event: event["at"])
    return _json({"events": merged})


async def stats(request: Request) -> Response:
    """Counters and memory, for the overload benchmark and for operators; ``health``: the mock's own loop lag,
    service time and webhook queue lag in the last completed second (health.py), per shard in ``health_shards``."""
    state = _admin(request)
    local = {
        "shard": state.config.shard_index,
        **state.counters,
        "ledger_rows": len(state.ledger),
        "ledger_memory_rows": state.ledger.memory_size,
        "media": len(state.media),
        "media_bytes": state.media.total_bytes,
        "customers": len(state.customers),
        "pair_limiters": state.limiters.pair_count(),
        "rss_bytes": psutil.Process(os.getpid()).memory_info().rss,
        "health": state.health.snapshot(),
    }
    for extension in state.extensions.values():  # plug-ins add their counters (webhook attempt evictions...)
        core_stats = getattr(extension, "core_stats", None)
        if callable(core_stats):
            local.update(core_stats())
    others = [orjson.loads(answer.body) for answer in await _others(request, state)]
    if not others:
        return _json(local)
    shards = [local, *others]
    healths = [{"shard": shard["shard"], **shard.pop("health")} for shard in shards]
    totals = {key: sum(shard[key] for shard in shards) for key in local if key != "shard"}
    return _json({**totals, "health": worst(healths), "health_shards": healths, "shards": shards})


async def customer(request: Request) -> Response:
    """One customer's identity, looked up by phone number, BSUID or username."""
    state = _admin(request)
    key = request.path_params["key"]
    registry = state.customers
    found = registry.by_wa_id(key) or registry.by_user_id(key) or registry.by_username(key)
    if found is None:
        raise unknown_object(key)
    until = registry.unreachable_until(found.wa_id, state.clock.now())
    return _json(
        {
            "wa_id": found.wa_id,
            "user_id": found.user_id,
            "username": found.username,
            "name": found.name,
            "unreachable_until": until,
        }
    )


async def unreachable(request: Request) -> Response:
    """``POST /_mock/customers/{key}/unreachable`` ``{"for_s": seconds}``: the customer's phone cannot be reached for
    that long from now (0: reachable again). Messages to them are retried until it can be, or fail when their
    time-to-live runs out first (docs/whatsapp-2026.md §4). ``key``: phone number, BSUID or username."""
    state = _admin(request)
    key = request.path_params["key"]
    registry = state.customers
    found = registry.by_wa_id(key) or registry.by_user_id(key) or registry.by_username(key)
    if found is not None:
        wa_id = found.wa_id
    elif key.isdigit() and 5 <= len(key) <= 15:
        wa_id = key  # a customer the mock has not met yet
    else:
        raise unknown_object(key)
    raw = await request.body()
    body = await _body(request)
    for_s = body.get("for_s") if isinstance(body, dict) else None
    if isinstance(for_s, bool) or not isinstance(for_s, (int, float)) or not 0 <= for_s <= 365 * 86_400:
        raise GraphError(100, f"Param for_s must be seconds from 0 to {365 * 86_400}, got {for_s!r}.")
    now = state.clock.now()
    state.customers.set_unreachable(wa_id, now + for_s if for_s > 0 else None)
    state.events.add(now, "customer_unreachable", wa_id=wa_id, for_s=for_s)
    await _others(request, state, raw)
    return _json({"wa_id": wa_id, "unreachable_until": now + for_s if for_s > 0 else None})


async def shards(request: Request) -> Response:
    """The shard map of a sharded mock (empty list when it runs as one process)."""
    state = _admin(request)
    return _json({"shards": state.shards.describe()})


def control_routes() -> list[BaseRoute]:
    return [
        Route("/_mock/health", health, methods=["GET"], name="mock_health"),
        Route("/_mock/ledger", ledger, methods=["GET"], name="mock_ledger"),
        Route("/_mock/reset", reset, methods=["POST"], name="mock_reset"),
        Route("/_mock/faults", add_fault, methods=["POST"], name="mock_add_fault"),
        Route("/_mock/faults", list_faults, methods=["GET"], name="mock_list_faults"),
        Route("/_mock/faults", clear_faults, methods=["DELETE"], name="mock_clear_faults"),
        Route("/_mock/faults/{fault_id}", delete_fault, methods=["DELETE"], name="mock_delete_fault"),
        Route("/_mock/limits", get_limits, methods=["GET"], name="mock_get_limits"),
        Route("/_mock/limits", patch_limits, methods=["PATCH"], name="mock_patch_limits"),
        Route("/_mock/events", events, methods=["GET"], name="mock_events"),
        Route("/_mock/stats", stats, methods=["GET"], name="mock_stats"),
        Route(
            "/_mock/numbers/{phone_number_id}/throughput_upgrade",
            throughput_upgrade,
            methods=["POST"],
            name="mock_throughput_upgrade",
        ),
        Route("/_mock/customers/{key}", customer, methods=["GET"], name="mock_customer"),
        Route("/_mock/customers/{key}/unreachable", unreachable, methods=["POST"], name="mock_customer_unreachable"),
        Route("/_mock/shards", shards, methods=["GET"], name="mock_shards"),
    ]
