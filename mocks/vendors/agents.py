"""The contact-centre routes of the reference vendor: agents' presence, their inboxes, replies and closes.

docs/contracts.md ("Reference SCRM vendor", agents): every route needs the API key like the rest of ``/api/``.
The desk (``mocks.vendors.desk``) decides; these handlers only parse, call it and store what it decided.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mocks.vendors.api import accepted, error, parse
from mocks.vendors.desk import NoSeat
from mocks.vendors.state import VendorState

AGENT_NAME = r"^[A-Za-z0-9._@-]{1,100}$"


class Online(BaseModel):
    model_config = ConfigDict(extra="ignore")
    skills: list[str] = Field(default_factory=list, max_length=50)
    cap: int | None = Field(None, ge=1, le=100)


class Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")
    agent: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=4096)


class Close(BaseModel):
    model_config = ConfigDict(extra="ignore")
    agent: str = Field(default="", max_length=100)


def _agent(request: Request) -> str | None:
    name = str(request.path_params["agent"])
    return name if 0 < len(name) <= 100 and name.isprintable() else None


def _conversation(request: Request) -> int | None:
    try:
        return int(request.path_params["id"])
    except ValueError:
        return None


async def online(request: Request) -> Response:
    name = _agent(request)
    body = await parse(request, Online)
    if isinstance(body, Response):
        return body
    if name is None:
        return error(400, "invalid_request", "agent names are 1..100 printable characters")
    state: VendorState = request.app.state.vendor
    try:
        made = state.desk.online(name, state.clock.now(), skills=tuple(body.skills), cap=body.cap)
    except NoSeat as exc:
        return error(409, "no_seat", str(exc))
    state.apply_assignments(made)
    agent = state.desk.agents[name]
    return JSONResponse({"agent": name, "online": True, "cap": agent.cap, "skills": sorted(agent.skills)})


async def offline(request: Request) -> Response:
    name = _agent(request)
    state: VendorState = request.app.state.vendor
    if name is None or not state.desk.offline(name, state.clock.now()):
        return error(404, "not_found", "no such agent")
    return JSONResponse({"agent": name, "online": False})


def _limit(request: Request) -> int | None:
    try:
        limit = int(request.query_params.get("limit", "50"))
    except ValueError:
        return None
    return limit if 1 <= limit <= 500 else None


def _since(request: Request) -> int | None:
    raw = request.query_params.get("since", "") or "0"
    return int(raw) if raw.isdigit() else None


async def inbox(request: Request) -> Response:
    """The agent's assignments after the cursor ``since`` (an assignment's ``seq``; empty or 0 from the start)."""
    name = _agent(request)
    limit, since = _limit(request), _since(request)
    if name is None or limit is None or since is None:
        return error(400, "invalid_request", "since is a cursor from an earlier answer, limit 1..500")
    state: VendorState = request.app.state.vendor
    items, cursor = state.desk.inbox(name, since, limit)
    return JSONResponse({"items": [item.as_dict() for item in items], "cursor": str(cursor)})


async def reply(request: Request) -> Response:
    conversation_id = _conversation(request)
    body = await parse(request, Reply)
    if isinstance(body, Response):
        return body
    state: VendorState = request.app.state.vendor
    rows = state.store.query("SELECT wa_id FROM conversations WHERE id = ?", (conversation_id,))
    if conversation_id is None or not rows:
        return error(404, "not_found", "no such conversation")
    wa_id = str(rows[0]["wa_id"])
    payload = {"type": "text", "text": {"body": body.text}}
    # From the number the customer wrote to (the vendor's default when it does not know it).
    message_id = state.queue_message(wa_id, "text", body.text, payload, from_id=state.graph.written_to(wa_id))
    return accepted(request, message_id, body.text)


async def close(request: Request) -> Response:
    conversation_id = _conversation(request)
    body = await parse(request, Close)
    if isinstance(body, Response):
        return body
    state: VendorState = request.app.state.vendor
    if conversation_id is None or not state.store.query("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)):
        return error(404, "not_found", "no such conversation")
    was_open = state.desk.is_open(conversation_id)
    state.apply_assignments(state.desk.release(conversation_id, state.clock.now()))
    return JSONResponse({"id": conversation_id, "closed": was_open})


async def assignments(request: Request) -> Response:
    """Every assignment after ``since`` (the harness's view of the routing) and the desk's state now."""
    limit, since = _limit(request), _since(request)
    if limit is None or since is None:
        return error(400, "invalid_request", "since is a cursor from an earlier answer, limit 1..500")
    state: VendorState = request.app.state.vendor
    items = state.desk.events(since, limit)
    cursor = items[-1].seq if items else since
    return JSONResponse({"items": [item.as_dict() for item in items], "cursor": str(cursor), **state.desk.stats()})
