"""Pure ASGI middleware applying the active faults to Graph routes (aesthetics lesson 4).

Order per request: outage (503 in Graph's envelope, or a dropped connection), then an injected error, then
latency (slept on the injected clock), then a slow, trickled body. Control-plane routes (``/_mock/``) are never
faulted, so the harness can always clear a fault it set.

A dropped connection sends nothing: under uvicorn the app (``MockApp`` in app.py) keeps the server's own ``send``
in the scope (``RAW_SEND``); that bound method's object holds the connection's asyncio transport, which is closed
before any ``http.response.start``, so the client reads EOF instead of a status line. Waiting for the server's
``http.disconnect`` afterwards keeps uvicorn from writing its "returned without a response" 500 to the closed
socket (it checks ``disconnected`` first). Without such a transport (in-process ASGI tests) the old fallback
remains: the response is started and ``ConnectionDropped`` raised.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mocks.whatsapp.errors import GraphError, envelope, status_of
from mocks.whatsapp.faults import ActiveFault
from mocks.whatsapp.state import MockState

RAW_SEND = "scrmbench.raw_send"  # scope key: the ASGI server's own send callable (set by MockApp)
_DISCONNECT_WAITS = 8  # receive() calls at most while waiting for the server to see the closed socket


class ConnectionDropped(Exception):
    """Raised after the response started, so the server closes the socket: the client sees a dropped connection."""


def classify(path: str) -> tuple[str, str | None]:
    """(route, phone number id) of a Graph path; route is messages | media | other | control."""
    if path.startswith("/_mock/"):
        return "control", None
    parts = [part for part in path.split("/") if part]
    if parts and parts[0][:1] == "v" and "." in parts[0]:
        parts = parts[1:]
    if len(parts) == 2 and parts[1] in ("messages", "marketing_messages"):  # the MM API is a send route too
        return "messages", parts[0]
    if (len(parts) == 2 and parts[1] == "media") or path.startswith("/mock-cdn/"):
        return "media", parts[0] if parts[1:2] == ["media"] else None
    if len(parts) == 1 and parts[0].isdigit():
        return "media", None
    return "other", None


class FaultMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: MockState = scope["app"].state.mock
        if not state.faults.faults:  # the common case costs one dict truth test
            await self.app(scope, receive, send)
            return
        route, phone_number_id = classify(scope["path"])
        if route == "control":
            await self.app(scope, receive, send)
            return
        hits = state.faults.matching(route, phone_number_id, state.clock.now())
        if not hits:
            await self.app(scope, receive, send)
            return
        await self._apply(state, hits, scope, receive, send)

    async def _apply(
        self, state: MockState, hits: list[ActiveFault], scope: Scope, receive: Receive, send: Send
    ) -> None:
        by_kind = {fault.spec.kind: fault for fault in hits}
        outage = by_kind.get("outage")
        if outage is not None:
            if outage.spec.mode == "drop":
                if await _close_connection(scope, receive):
                    return
                await send({"type": "http.response.start", "status": 503, "headers": [(b"content-length", b"64")]})
                raise ConnectionDropped(f"fault {outage.id}: connection dropped")
            await _graph_error(state, send, GraphError(133004, "Injected outage.", http_status=503))
            return
        error = by_kind.get("error")
        if error is not None:
            await _graph_error(
                state, send, GraphError(error.spec.code, "Injected error.", http_status=error.spec.http_status)
            )
            return
        latency = by_kind.get("latency")
        if latency is not None:
            await state.clock.sleep(latency.delay_s())
        slow = by_kind.get("slow")
        if slow is not None:
            send = _trickle(state, send, slow.spec.bytes_per_second)
        await self.app(scope, receive, send)


async def _close_connection(scope: Scope, receive: Receive) -> bool:
    """Close the client's socket without a byte of response; False when the server gives no transport."""
    server_send = scope.get(RAW_SEND)
    transport = getattr(getattr(server_send, "__self__", None), "transport", None)
    close = getattr(transport, "close", None)
    if not callable(close):
        return False
    close()
    for _ in range(_DISCONNECT_WAITS):  # the rest of the body, then http.disconnect once the loop saw the close
        if (await receive())["type"] == "http.disconnect":
            break
    return True


async def _graph_error(state: MockState, send: Send, error: GraphError) -> None:
    body = orjson.dumps(envelope(error, state.trace_ids.next()))
    status = status_of(error, state.config.rate_limit_http_status)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _trickle(state: MockState, send: Send, bytes_per_second: float) -> Send:
    """A ``send`` that writes the body in small pieces, pausing so the rate stays at ``bytes_per_second``."""
    piece = max(1, int(bytes_per_second / 10))

    async def trickling_send(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        for start in range(0, len(body), piece):
            chunk = body[start : start + piece]
            await state.clock.sleep(len(chunk) / bytes_per_second)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": more})

    return trickling_send
