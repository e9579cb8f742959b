"""The webhook plug-in's part of the OpenAPI document (``WebhooksPlugin.openapi``): routes.py's paths.

Bodies come from the pydantic models; their nested models go to ``components/schemas`` (``schemas``), so every
``$ref`` resolves from the document's root. The batch size in the document is the configured
``customer_batch_max``, so a fuzzer run against a small setting stays small.
"""

from __future__ import annotations

from typing import Any

from mocks.whatsapp.webhooks.config import SubscriptionConfig, WebhookConfig
from mocks.whatsapp.webhooks.inbound import CustomerMessage

REF = "#/components/schemas/{model}"
_ERROR = {"$ref": "#/components/responses/GraphError"}
_OBJ = {"type": "object"}


def _schema(model: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema(ref_template=REF, by_alias=True)
    schemas.update(schema.pop("$defs", {}))
    return schema


def _op(operation_id: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "security": [{"adminToken": []}],
        "responses": {**responses, "400": _ERROR, "401": _ERROR, "404": _ERROR},
        **extra,
    }


def _ok(description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _OBJ}}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def webhook_openapi(settings: WebhookConfig) -> dict[str, Any]:
    """``{"paths", "schemas"}`` for /_mock/subscriptions*, /_mock/customers/messages and /_mock/webhooks/*."""
    schemas: dict[str, Any] = {}
    subscription = _schema(SubscriptionConfig, schemas)
    one = _schema(CustomerMessage, schemas)
    one["properties"]["wait"] = {"type": "boolean", "description": "false: queue it and answer 202 at once"}
    limit = settings.customer_batch_max
    generate = {
        "type": "object",
        "additionalProperties": False,
        "required": ["count"],
        "properties": {
            "count": {"type": "integer", "minimum": 1, "maximum": limit},
            "start_index": {"type": "integer", "minimum": 0},
            "phone_number_id": {"type": ["string", "null"]},
            "text": {"type": ["string", "null"]},
            "intent": {"type": ["integer", "null"], "minimum": 0},
        },
    }
    batch = {
        "type": "object",
        "required": ["messages"],
        "properties": {"messages": {"type": "array", "items": one, "minItems": 1, "maxItems": limit}},
    }
    generated = {"type": "object", "required": ["generate"], "properties": {"generate": generate}}
    sub_id = {"name": "sub_id", "in": "path", "required": True, "schema": {"type": "string"}}
    since = {"name": "since", "in": "query", "required": False, "schema": {"type": "number"}}
    fmt = {
        "name": "format",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": ["ndjson", "parquet"]},
    }
    queued = {"202": _ok("queued (the batch form, or wait: false)"), "409": _ERROR}
    paths = {
        "/_mock/subscriptions": {
            "post": _op(
                "addSubscription", {"201": _ok("created, with the handshake result")}, requestBody=_body(subscription)
            ),
            "get": _op("listSubscriptions", {"200": _ok()}),
        },
        "/_mock/subscriptions/{sub_id}": {"delete": _op("deleteSubscription", {"200": _ok()}, parameters=[sub_id])},
        "/_mock/subscriptions/{sub_id}/verify": {
            "post": _op("verifySubscription", {"200": _ok()}, parameters=[sub_id])
        },
        "/_mock/customers/messages": {
            "post": _op(
                "customerMessages",
                {"200": _ok("delivered (one message, synchronous)"), **queued},
                requestBody=_body({"oneOf": [one, batch, generated]}),
            )
        },
        "/_mock/webhooks/attempts": {
            "get": _op(
                "webhookAttempts",
                {"200": {"description": "WEBHOOK_ATTEMPT_SCHEMA rows as NDJSON or Parquet"}},
                parameters=[since, fmt],
            )
        },
        "/_mock/webhooks/stats": {"get": _op("webhookStats", {"200": _ok()})},
    }
    return {"paths": paths, "schemas": schemas}
