"""``POST /{version}/{phone_number_id}/marketing_messages``: Meta's Marketing Messages API (formerly MM Lite),
docs/whatsapp-2026.md §4.

The body is the Cloud API send body of a **marketing template**, plus, optionally:

- ``message_send_ttl_seconds``: how long delivery is retried (marketing: 12 h to 30 days, default 30 days);
- ``message_activity_sharing``: true/false;
- ``optimization_spec``: an object (``bid_spec`` is refused: unsupported after 2026-07-31; ``marketing_bid_spec:
  ignore`` in the config accepts and ignores it for a trial that still sends it).

The answer is the Cloud API answer with ``"success": true``. Anything else (not a template, a template of another
category, a TTL out of range, a malformed body) gets Graph's error envelope. The message then goes the same way as
a Cloud API send (limits, ledger with ``extra.api = "marketing_messages"`` and its TTL, status webhooks).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mocks.whatsapp.auth import check_token, token_from
from mocks.whatsapp.errors import GraphError, unknown_object
from mocks.whatsapp.send import accepted_answer, admit
from mocks.whatsapp.state import MockState
from mocks.whatsapp.validation import parse_send

TTL_MIN_S, TTL_MAX_S = 12 * 3_600, 30 * 86_400
_EXTRA_FIELDS = ("message_send_ttl_seconds", "message_activity_sharing", "optimization_spec", "bid_spec")


def _options(state: MockState, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    ttl = body.get("message_send_ttl_seconds", TTL_MAX_S)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not TTL_MIN_S <= ttl <= TTL_MAX_S:
        raise GraphError(
            100, f"Param message_send_ttl_seconds must be an integer from {TTL_MIN_S} to {TTL_MAX_S}, got {ttl!r}."
        )
    sharing = body.get("message_activity_sharing")
    if sharing is not None and not isinstance(sharing, bool):
        raise GraphError(100, "Param message_activity_sharing must be true or false.")
    spec = body.get("optimization_spec")
    if spec is not None and not isinstance(spec, dict):
        raise GraphError(100, "Param optimization_spec must be an object.")
    if "bid_spec" in body and state.config.marketing_bid_spec == "refuse":
        raise GraphError(100, "Param bid_spec is no longer supported; use optimization_spec.")
    extra: dict[str, Any] = {"api": "marketing_messages", "ttl_s": ttl}
    if sharing is not None:
        extra["message_activity_sharing"] = sharing
    return ttl, extra


async def marketing_messages(request: Request) -> Response:
    state: MockState = request.app.state.mock
    check_token(state.config.auth, token_from(request.headers.get("authorization"), request.scope["query_string"]))
    params = request.path_params
    if "major" in params:
        served = state.served_version(params["major"], params["minor"])
    else:
        served = state.versions.newest(state.clock.now())
    phone_number_id = str(params["phone_number_id"])
    if phone_number_id not in state.numbers:
        raise unknown_object(phone_number_id)
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise GraphError(100, "The request body could not be parsed as JSON.") from None
    if not isinstance(body, dict):
        raise GraphError(100, "The request body must be a JSON object.")
    if body.get("type") != "template" or "status" in body:
        raise GraphError(100, "The Marketing Messages API sends marketing templates only (type must be 'template').")
    _, extra = _options(state, body)
    outbound = parse_send({key: value for key, value in body.items() if key not in _EXTRA_FIELDS})
    if outbound.template is not None:
        known = state.templates.get(outbound.template[:2])
        if known is not None and known.category != "marketing":
            raise GraphError(100, f"The Marketing Messages API sends marketing templates only, not {known.category}.")
    entry = admit(state, phone_number_id, outbound, len(raw))
    entry.extra = {**(entry.extra or {}), **extra}
    state.accepted(entry)
    answer = {**accepted_answer(entry, outbound), "success": True}
    headers = {"facebook-api-version": f"v{served[0]}.{served[1]}"} if state.config.versions.header else None
    return Response(orjson.dumps(answer), media_type="application/json", headers=headers)
