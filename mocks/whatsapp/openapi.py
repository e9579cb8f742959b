"""The OpenAPI 3.1 document the mock serves at ``GET /_mock/openapi.json``: Graph routes and the control plane.

Bodies of the control plane come from the pydantic models (one source of truth); Graph bodies are written out
for the shapes the reference describes. tests/mocks/whatsapp/test_fuzz.py runs schemathesis against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mocks.whatsapp.config import LimitsConfig, MockConfig
from mocks.whatsapp.faults import FaultSpec
from mocks.whatsapp.marketing import TTL_MAX_S, TTL_MIN_S
from mocks.whatsapp.validation import MEDIA_TYPES, MESSAGE_TYPES

_ERROR = {"$ref": "#/components/responses/GraphError"}
_STR = {"type": "string"}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _graph_errors() -> dict[str, Any]:
    return {"400": _ERROR, "401": _ERROR, "404": _ERROR, "429": _ERROR, "503": _ERROR}


def _send_body() -> dict[str, Any]:
    media = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": "^[0-9]+$"},
            "link": _STR,
            "caption": _STR,
            "filename": _STR,
        },
    }
    return {
        "type": "object",
        "required": ["messaging_product"],
        "properties": {
            "messaging_product": {"type": "string", "enum": ["whatsapp"]},
            "recipient_type": {"type": "string", "enum": ["individual"]},
            "to": {"type": "string", "description": "phone number (digits, optional leading +)"},
            "recipient": {"type": "string", "description": "a business-scoped user id (BSUID)"},
            "type": {"type": "string", "enum": sorted(MESSAGE_TYPES)},
            "text": {
                "type": "object",
                "properties": {"body": {"type": "string", "maxLength": 4096}, "preview_url": {"type": "boolean"}},
            },
            "template": {
                "type": "object",
                "properties": {
                    "name": _STR,
                    "language": {"type": "object", "properties": {"code": _STR}},
                    "components": {"type": "array", "items": {"type": "object"}},
                },
            },
            "interactive": {"type": "object"},
            "location": {
                "type": "object",
                "properties": {
                    "latitude": {"type": "number"},
                    "longitude": {"type": "number"},
                    "name": _STR,
                    "address": _STR,
                },
            },
            "contacts": {"type": "array", "items": {"type": "object"}},
            "reaction": {"type": "object", "properties": {"message_id": _STR, "emoji": _STR}},
            **{kind: media for kind in MEDIA_TYPES},
            "context": {"type": "object", "properties": {"message_id": _STR}},
            "biz_opaque_callback_data": {"type": "string", "maxLength": 512},
            "status": {"type": "string", "enum": ["read"], "description": "mark-as-read"},
            "message_id": _STR,
            "typing_indicator": {"type": "object", "properties": {"type": {"type": "string", "enum": ["text"]}}},
        },
    }


def _marketing_body() -> dict[str, Any]:
    """The Marketing Messages API body (marketing.py): a template send plus its TTL and options."""
    send = _send_body()
    keep = ("messaging_product", "recipient_type", "to", "recipient", "template", "context", "biz_opaque_callback_data")
    properties = {name: send["properties"][name] for name in keep}
    return {
        "type": "object",
        "required": ["messaging_product", "type", "template"],
        "properties": {
            **properties,
            "type": {"type": "string", "enum": ["template"]},
            "message_send_ttl_seconds": {
                "type": "integer",
                "minimum": TTL_MIN_S,
                "maximum": TTL_MAX_S,
                "description": "how long delivery is retried (default 30 days)",
            },
            "message_activity_sharing": {"type": "boolean"},
            "optimization_spec": {"type": "object"},
        },
    }


def _graph_paths() -> dict[str, Any]:
    version = {
        "name": "version",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": r"^v[0-9]{1,3}\.[0-9]{1,2}$"},
    }
    number = {
        "name": "phone_number_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
    }
    object_id = {
        "name": "object_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
    }
    sent = {
        "type": "object",
        "properties": {
            "messaging_product": _STR,
            "contacts": {"type": "array"},
            "messages": {"type": "array"},
            "success": {"type": "boolean"},
        },
    }
    upload = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "type", "messaging_product"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "type": _STR,
                        "messaging_product": {"type": "string", "enum": ["whatsapp"]},
                    },
                }
            }
        },
    }
    security: list[dict[str, list[str]]] = [{"graphToken": []}]
    return {
        "/{version}/{phone_number_id}/messages": {
            "post": {
                "operationId": "sendMessage",
                "summary": "Send any message type, mark a message read or show a typing indicator",
                "parameters": [version, number],
                "security": security,
                "requestBody": _json_body(_send_body()),
                "responses": {"200": _ok(sent), **_graph_errors()},
            }
        },
        "/{version}/{phone_number_id}/marketing_messages": {
            "post": {
                "operationId": "sendMarketingMessage",
                "summary": "Marketing Messages API: a marketing template, delivery retried for its time-to-live",
                "parameters": [version, number],
                "security": security,
                "requestBody": _json_body(_marketing_body()),
                "responses": {"200": _ok(sent), **_graph_errors()},
            }
        },
        "/{version}/{phone_number_id}/media": {
            "post": {
                "operationId": "uploadMedia",
                "parameters": [version, number],
                "security": security,
                "requestBody": upload,
                "responses": {"200": _ok({"type": "object", "properties": {"id": _STR}}), **_graph_errors()},
            }
        },
        "/{version}/{waba_id}/message_templates": {
            "get": {
                "operationId": "listTemplates",
                "parameters": [version, {**object_id, "name": "waba_id"}],
                "security": security,
                "responses": {"200": _ok({"type": "object"}), **_graph_errors()},
            }
        },
        "/{version}/{waba_id}/phone_numbers": {
            "get": {
                "operationId": "listPhoneNumbers",
                "parameters": [version, {**object_id, "name": "waba_id"}],
                "security": security,
                "responses": {"200": _ok({"type": "object"}), **_graph_errors()},
            }
        },
        "/{version}/{object_id}": {
            "get": {
                "operationId": "getObject",
                "summary": "A phone number's info, or a media descriptor with a 5-minute download URL",
                "parameters": [version, object_id],
                "security": security,
                "responses": {"200": _ok({"type": "object"}), **_graph_errors()},
            },
            "delete": {
                "operationId": "deleteMedia",
                "parameters": [version, object_id],
                "security": security,
                "responses": {
                    "200": _ok({"type": "object", "properties": {"success": {"type": "boolean"}}}),
                    **_graph_errors(),
                },
            },
        },
    }


def _control(operation_id: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "security": [{"adminToken": []}],
        "responses": {**responses, "400": _ERROR, "401": _ERROR},
        **extra,
    }


def _control_paths() -> dict[str, Any]:
    since = {"name": "since", "in": "query", "required": False, "schema": {"type": "number"}}
    fmt = {
        "name": "format",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": ["ndjson", "parquet"]},
    }
    obj = {"type": "object"}
    key = {"name": "key", "in": "path", "required": True, "schema": _STR}
    fault = FaultSpec.model_json_schema()
    limits = LimitsConfig.model_json_schema()
    limits.pop("required", None)  # PATCH takes any subset
    return {
        "/_mock/health": {"get": {"operationId": "health", "responses": {"200": _ok(obj)}}},
        "/_mock/openapi.json": {"get": {"operationId": "openapi", "responses": {"200": _ok(obj)}}},
        "/_mock/ledger": {
            "get": _control(
                "ledger", {"200": {"description": "LEDGER_SCHEMA rows as NDJSON or Parquet"}}, parameters=[since, fmt]
            )
        },
        "/_mock/reset": {"post": _control("reset", {"200": _ok(obj)})},
        "/_mock/faults": {
            "post": _control(
                "addFault", {"201": _ok({"type": "object", "properties": {"id": _STR}})}, requestBody=_json_body(fault)
            ),
            "get": _control("listFaults", {"200": _ok(obj)}),
            "delete": _control("clearFaults", {"200": _ok(obj)}),
        },
        "/_mock/faults/{fault_id}": {
            "delete": _control(
                "deleteFault",
                {"200": _ok(obj)},
                parameters=[{"name": "fault_id", "in": "path", "required": True, "schema": _STR}],
            ),
        },
        "/_mock/limits": {
            "get": _control("getLimits", {"200": _ok(obj)}),
            "patch": _control("patchLimits", {"200": _ok(obj)}, requestBody=_json_body(limits)),
        },
        "/_mock/events": {"get": _control("events", {"200": _ok(obj)}, parameters=[since])},
        "/_mock/stats": {"get": _control("stats", {"200": _ok(obj)})},
        "/_mock/shards": {"get": _control("shards", {"200": _ok(obj)})},
        "/_mock/customers/{key}": {
            "get": _control("customer", {"200": _ok(obj)}, parameters=[key]),
        },
        "/_mock/customers/{key}/unreachable": {
            "post": _control(
                "customerUnreachable",
                {"200": _ok(obj)},
                parameters=[key],
                requestBody=_json_body(
                    {
                        "type": "object",
                        "required": ["for_s"],
                        "properties": {"for_s": {"type": "number", "minimum": 0, "maximum": 365 * 86_400}},
                    }
                ),
            ),
        },
        "/_mock/numbers/{phone_number_id}/throughput_upgrade": {
            "post": _control(
                "throughputUpgrade",
                {"200": _ok(obj)},
                parameters=[{"name": "phone_number_id", "in": "path", "required": True, "schema": _STR}],
            ),
        },
    }


def _media_cdn_path() -> dict[str, Any]:
    segment = {"in": "path", "required": True, "schema": _STR}
    return {
        "/mock-cdn/{media_id}/{expires}/{signature}": {
            "get": {
                "operationId": "downloadMedia",
                "summary": "The byte URL of a media descriptor (valid 5 minutes); needs the access token",
                "parameters": [{"name": name, **segment} for name in ("media_id", "expires", "signature")],
                "security": [{"graphToken": []}],
                "responses": {
                    "200": {"description": "the media bytes", "content": {"application/octet-stream": {}}},
                    "404": {"description": "unknown media or an expired URL", "content": {"text/plain": {}}},
                    "401": _ERROR,
                },
            }
        }
    }


def openapi_document(config: MockConfig, extra: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The document; ``extra`` holds plug-ins' ``{"paths", "schemas"}`` (the webhooks plug-in's routes)."""
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message", "type", "code", "fbtrace_id"],
                "properties": {
                    "message": _STR,
                    "type": _STR,
                    "code": {"type": "integer"},
                    "error_subcode": {"type": "integer"},
                    "error_data": {"type": "object"},
                    "fbtrace_id": _STR,
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "scrmbench mock WhatsApp Cloud API",
            "version": "1",
            "description": "Graph API routes (any vNN.N prefix, or none) and the /_mock/ control plane.",
        },
        "servers": [{"url": f"http://{config.host}:{config.port}"}],
        "paths": {
            **_graph_paths(),
            **_media_cdn_path(),
            **_control_paths(),
            **{path: item for part in extra for path, item in part.get("paths", {}).items()},
        },
        "components": {
            "securitySchemes": {
                "graphToken": {"type": "http", "scheme": "bearer", "description": "default mock-access-token"},
                "adminToken": {"type": "http", "scheme": "bearer", "description": "default mock-admin-token"},
            },
            "responses": {"GraphError": _ok(error, "Graph error envelope")},
            "schemas": {name: schema for part in extra for name, schema in part.get("schemas", {}).items()},
        },
    }
