"""Load shedding: past ``max_in_flight`` concurrent Graph requests, answer 503 at once (issue 10).

Under 10x the load it can serve, a server that queues everything answers everything late and grows without
bound; this one answers the excess immediately with Graph's "temporarily unavailable" (133004, ``Retry-After: 1``)
so clients back off, memory stays bounded and it recovers as soon as the load drops. The control plane is never
shed, so the harness can always read the ledger and clear faults. Rate limits (130429, 131056) shed per phone
number before this point; this guard is for the process as a whole.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from mocks.whatsapp.errors import GraphError, envelope
from mocks.whatsapp.state import MockState


class ShedMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_mock/"):
            await self.app(scope, receive, send)
            return
        state: MockState = scope["app"].state.mock
        if self.in_flight >= state.config.max_in_flight:
            state.counters["shed"] += 1
            error = GraphError(133004, "The mock is overloaded; retry after a second.", http_status=503)
            body = orjson.dumps(envelope(error, state.trace_ids.next()))
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"1"),
            ]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
