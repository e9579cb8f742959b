"""The vendor's own clock on every request: a service-time ASGI middleware and its bounded per-request log.

``ServiceTimer`` is the outermost layer of the app under the server. It reads ``time.perf_counter()`` when the
server hands it a request and again when the app hands the response's start (status and headers) to the server
(a JSON body follows in the same step), and

- adds ``Server-Timing: app;dur=<ms>`` and ``X-Request-Id: <n>`` to that response;
- appends one row to the app's ``TimingLog``: ``id``, ``at`` (wall clock at receipt), ``method``, ``path``,
  ``status``, ``dur_ms``, and what the handlers noted about the request with :func:`note` (``correlation_id`` and
  ``message_id`` of an accepted send, ``injected_ms`` of the calibrated profile's draw), None where nothing was.

So the realised service time includes the injected wait, the handler's own work and any lateness of the event
loop while the request is in the app: everything the vendor did. What it cannot include is the time before the
server hands the request over and after it takes the response (sockets, parsing): a client's latency minus it is
the loopback and client overhead, which is how the harness's measurement is checked (``timing_check``).

The log is a ring buffer (``capacity`` rows; the oldest are evicted and counted) read with
``GET /_vendor/timings?after=<id>&limit=<n>``. Paths under ``/_vendor/``, ``/health`` and ``/openapi.json`` get the
header but no row, so polling the log or the health check never evicts what it is meant to read.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOTES_KEY = "scrm.timing_notes"  # the ASGI scope key holding what handlers noted about the request
UNLOGGED_PREFIXES = ("/_vendor/", "/health", "/openapi.json")
NOTE_FIELDS = ("correlation_id", "message_id", "injected_ms")
MAX_PAGE = 10_000


def note(request: Request, **fields: Any) -> None:
    """Attach fields (one of ``NOTE_FIELDS``) to the request's timing row; a no-op outside ``ServiceTimer``."""
    unknown = set(fields) - set(NOTE_FIELDS)
    if unknown:
        raise ValueError(f"unknown timing note field(s) {sorted(unknown)}; use {NOTE_FIELDS}")
    notes = request.scope.get(NOTES_KEY)
    if isinstance(notes, dict):
        notes.update(fields)


class TimingLog:
    """The last ``capacity`` timed requests, oldest first; ids count up from 1 and are never reused."""

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError(f"a timing log needs room for at least one row, not {capacity}")
        self.capacity = capacity
        self.rows: deque[dict[str, Any]] = deque(maxlen=capacity)
        self.evicted = 0
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)

    def append(self, row: dict[str, Any]) -> None:
        if len(self.rows) == self.capacity:
            self.evicted += 1
        self.rows.append(row)

    def page(self, after: int = 0, limit: int = MAX_PAGE) -> list[dict[str, Any]]:
        """Up to ``limit`` rows with ``id > after``, oldest first."""
        out: list[dict[str, Any]] = []
        for row in self.rows:
            if row["id"] > after:
                out.append(row)
                if len(out) >= limit:
                    break
        return out


class ServiceTimer:
    """Pure ASGI middleware: time each HTTP request inside the app; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        log: TimingLog,
        *,
        timer: Callable[[], float] = time.perf_counter,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.log = log
        self.timer = timer
        self.wall = wall

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = self.timer()
        at = self.wall()
        request_id = self.log.next_id()
        notes: dict[str, Any] = {}
        scope[NOTES_KEY] = notes
        answer: dict[str, float | int] = {}

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                dur_ms = (self.timer() - started) * 1000.0
                answer.update(status=int(message["status"]), dur_ms=dur_ms)
                headers = MutableHeaders(scope=message)
                headers.append("Server-Timing", f"app;dur={dur_ms:.3f}")
                headers.append("X-Request-Id", str(request_id))
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            path = str(scope.get("path", ""))
            if not path.startswith(UNLOGGED_PREFIXES):
                if "dur_ms" not in answer:  # the app raised before its response: the server answers 500 after this
                    answer.update(status=500, dur_ms=(self.timer() - started) * 1000.0)
                self.log.append(
                    {
                        "id": request_id,
                        "at": at,
                        "method": scope.get("method", ""),
                        "path": path,
                        "status": answer["status"],
                        "dur_ms": answer["dur_ms"],
                        **{name: notes.get(name) for name in NOTE_FIELDS},
                    }
                )


async def timings_endpoint(request: Request) -> Response:
    """``GET /_vendor/timings?after=<id>&limit=<n>``: recent rows, oldest first, and what the buffer dropped."""
    log: TimingLog = request.app.state.timings
    try:
        after = int(request.query_params.get("after", "0"))
        limit = int(request.query_params.get("limit", str(MAX_PAGE)))
    except ValueError:
        return _bad("after and limit must be integers")
    if after < 0 or not 1 <= limit <= MAX_PAGE:
        return _bad(f"after must be >= 0 and limit between 1 and {MAX_PAGE}")
    rows = log.page(after, limit)
    last = rows[-1]["id"] if rows else after
    more = bool(log.rows) and log.rows[-1]["id"] > last
    return JSONResponse({"rows": rows, "capacity": log.capacity, "evicted": log.evicted, "last_id": last, "more": more})


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "invalid_request", "message": message}}, status_code=400)
