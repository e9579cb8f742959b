"""The OpenAPI 3.1 document of the reference vendor's REST API, served at ``GET /openapi.json``.

Written by hand from the table in docs/contracts.md, so the contract is one readable page; a test checks
that every route of the app appears here and the other way round.
"""

from __future__ import annotations

from typing import Any

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
_QUEUED = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {"id": {"type": "string"}, "status": {"type": "string", "enum": ["queued"]}},
}
_WA_ID = {"type": "string", "pattern": r"^\+?[0-9]{6,20}$"}
_PHONE_ID = {"type": "string", "pattern": r"^[0-9]{1,20}$", "description": "the phone-number id to send from"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


def _op(
    summary: str, status: str, answer: dict[str, Any], body: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            status: {"description": "ok", "content": _json(answer)},
            "400": {"description": "invalid request", "content": _json(_ERROR)},
            "401": {"description": "missing or wrong API key", "content": _json(_ERROR)},
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
    op.update(extra)
    return op


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def openapi_document() -> dict[str, Any]:
    string = {"type": "string"}
    params = {"type": "array", "items": string}
    conversation = _obj(
        ["id", "wa_id"],
        id={"type": "integer"},
        wa_id=string,
        agent={"type": ["string", "null"]},
        created_at={"type": "number"},
        updated_at={"type": "number"},
        last_text={"type": ["string", "null"]},
    )
    integer = {"type": "integer"}
    assignment = _obj(
        ["seq", "conversation_id", "wa_id", "agent", "assigned_at"],
        seq=integer,
        conversation_id=integer,
        wa_id=string,
        agent=string,
        text=string,
        intent=string,
        arrived_at={"type": "number"},
        assigned_at={"type": "number"},
        waited_s={"type": "number"},
    )
    paths: dict[str, Any] = {
        "/health": {
            "get": {
                "summary": "Ready",
                "security": [],
                "responses": {
                    "200": {
                        "description": "ready",
                        "content": _json(_obj(["status", "profile"], status=string, profile=string)),
                    }
                },
            }
        },
        "/api/messages": {
            "post": _op(
                "Send a text",
                "202",
                _QUEUED,
                _json(
                    _obj(
                        ["to", "text"],
                        to=_WA_ID,
                        text={"type": "string", "minLength": 1, "maxLength": 4096},
                        **{"from": _PHONE_ID},
                    )
                ),
            )
        },
        "/api/messages/template": {
            "post": _op(
                "Send a template to one recipient",
                "202",
                _QUEUED,
                _json(
                    _obj(
                        ["to", "template"],
                        to=_WA_ID,
                        template=string,
                        language=string,
                        params=params,
                        **{"from": _PHONE_ID},
                    )
                ),
            )
        },
        "/api/messages/media": {
            "post": _op(
                "Send media by media_id or link",
                "202",
                _QUEUED,
                _json(
                    _obj(
                        ["to", "kind"],
                        to=_WA_ID,
                        kind={"enum": ["image", "document", "video", "audio"]},
                        media_id=string,
                        link=string,
                        caption=string,
                        **{"from": _PHONE_ID},
                    )
                ),
            )
        },
        "/api/messages/{id}": {
            "get": _op(
                "A message's status",
                "200",
                _obj(["id", "status"], id=string, status=string, wamid={"type": ["string", "null"]}),
                parameters=[_path_param("id")],
            )
        },
        "/api/media": {
            "post": _op(
                "Upload media (forwarded to WhatsApp)",
                "201",
                _obj(["media_id"], media_id=string),
                {
                    "multipart/form-data": {
                        "schema": _obj(["file"], file={"type": "string", "format": "binary"}, type=string)
                    }
                },
            )
        },
        "/api/broadcasts": {
            "post": _op(
                "Broadcast a template to every contact with a tag (a job)",
                "202",
                _obj(["id", "total"], id=string, total={"type": "integer"}),
                _json(_obj(["template", "tag"], template=string, language=string, tag=string, params=params)),
            )
        },
        "/api/broadcasts/{id}": {
            "get": _op(
                "A broadcast's progress",
                "200",
                _obj(
                    ["id", "total", "sent", "failed", "done"],
                    id=string,
                    total={"type": "integer"},
                    sent={"type": "integer"},
                    failed={"type": "integer"},
                    done={"type": "boolean"},
                ),
                parameters=[_path_param("id")],
            )
        },
        "/api/conversations": {
            "get": _op(
                "List and full-text search conversations",
                "200",
                _obj(["items", "total"], items={"type": "array", "items": conversation}, total={"type": "integer"}),
                parameters=[
                    {"name": "q", "in": "query", "schema": string},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                ],
            )
        },
        "/api/conversations/{id}/assign": {
            "post": _op(
                "Assign a conversation to an agent",
                "200",
                _obj(["id", "agent"], id={"type": "integer"}, agent=string),
                _json(_obj(["agent"], agent=string)),
                parameters=[_path_param("id")],
            )
        },
        "/api/contacts/{wa_id}/tags": {
            "post": _op(
                "Tag a contact",
                "200",
                _obj(["wa_id", "tags"], wa_id=string, tags=params),
                _json(_obj(["tag"], tag=string)),
                parameters=[_path_param("wa_id")],
            )
        },
        "/api/agents/{agent}/online": {
            "post": _op(
                "An agent comes online (409 no_seat when every seat is taken)",
                "200",
                _obj(["agent", "online", "cap"], agent=string, online={"type": "boolean"}, cap=integer, skills=params),
                _json(_obj([], skills=params, cap=integer)),
                parameters=[_path_param("agent")],
            )
        },
        "/api/agents/{agent}/offline": {
            "post": _op(
                "An agent goes offline (keeps its open conversations, takes no new ones)",
                "200",
                _obj(["agent", "online"], agent=string, online={"type": "boolean"}),
                parameters=[_path_param("agent")],
            )
        },
        "/api/agents/{agent}/inbox": {
            "get": _op(
                "The conversations assigned to the agent since a cursor",
                "200",
                _obj(["items", "cursor"], items={"type": "array", "items": assignment}, cursor=string),
                parameters=[
                    _path_param("agent"),
                    {"name": "since", "in": "query", "schema": string},
                    {"name": "limit", "in": "query", "schema": integer},
                ],
            )
        },
        "/api/conversations/{id}/reply": {
            "post": _op(
                "Reply in a conversation as an agent",
                "202",
                _QUEUED,
                _json(_obj(["agent", "text"], agent=string, text=string)),
                parameters=[_path_param("id")],
            )
        },
        "/api/conversations/{id}/close": {
            "post": _op(
                "Close a conversation (frees the agent's slot)",
                "200",
                _obj(["id", "closed"], id=integer, closed={"type": "boolean"}),
                _json(_obj([], agent=string)),
                parameters=[_path_param("id")],
            )
        },
        "/webhooks/whatsapp": {
            "get": {
                "summary": "Meta's verification handshake (hub.mode, hub.verify_token, hub.challenge)",
                "security": [],
                "responses": {
                    "200": {"description": "the bare challenge"},
                    "403": {"description": "wrong verify token"},
                },
            },
            "post": {
                "summary": "Signed WhatsApp webhooks (X-Hub-Signature-256, at most 3 MB); idempotent",
                "security": [],
                "responses": {
                    "200": {"description": "stored or ignored as a replay"},
                    "400": {"description": "not a webhook"},
                    "401": {"description": "bad signature"},
                    "413": {"description": "over 3 MB"},
                },
            },
        },
    }
    paths["/api/media"]["post"]["responses"]["503"] = {
        "description": "media service overloaded (flaky-media profile) or WhatsApp unavailable; retry later",
        "content": _json(_ERROR),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "scrmbench reference SCRM vendor", "version": "1.0.0"},
        "components": {"securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}}},
        "security": [{"apiKey": []}],
        "paths": paths,
    }
