"""The embedded HA front: a small reverse proxy that health-checks a primary and a standby.

Detection is active: ``GET /health`` on every backend each ``interval_s``; after ``failure_threshold``
consecutive failures a backend is marked down, so a killed (connection refused) active backend is detected
between (threshold - 1) x interval and threshold x interval after it died, whatever the traffic. Passive
checks (a proxied request that cannot connect counts as a failed check) are opt-in (``passive_checks``): with
traffic flowing they reach the threshold within milliseconds, and the profile's figure would no longer hold.
Until the switch, a proxied request that cannot connect answers 502. Automatic failover switches to the
standby at once and promotes it (``POST /_vendor/promote``); manual failover answers 503 until an operator
calls ``POST /_front/failover``, or until the simulated operator's ``manual_delay_s`` has passed. Every
transition is logged with its time at ``GET /_front/status``, so a test or a run can line it up with
the fault that caused it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ground.clock import Clock, SystemClock
from mocks.vendors.settings import FrontSettings

log = logging.getLogger(__name__)

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
     "transfer-encoding", "upgrade", "host", "content-length", "content-encoding"}
)  # fmt: skip


@dataclass
class Backend:
    name: str
    url: str
    failures: int = 0
    down: bool = False


@dataclass
class FrontState:
    settings: FrontSettings
    backends: list[Backend]
    api_key: str
    clock: Clock
    client: httpx.AsyncClient
    active: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def note(self, event: str, backend: Backend, **detail: Any) -> None:
        self.events.append({"at": self.clock.now(), "event": event, "backend": backend.name, **detail})
        log.warning("front: %s %s %s", event, backend.name, detail or "")

    @property
    def current(self) -> Backend:
        return self.backends[self.active]

    def record_failure(self, backend: Backend, reason: str) -> None:
        backend.failures += 1
        if backend.down or backend.failures < self.settings.failure_threshold:
            return
        backend.down = True
        self.note("detected", backend, reason=reason, failures=backend.failures)
        if backend is not self.current:
            return  # a failed standby only stops being a failover target
        if self.settings.failover == "automatic":
            self.tasks.append(asyncio.create_task(self._switch("automatic")))
        elif self.settings.manual_delay_s is not None:
            self.tasks.append(asyncio.create_task(self._operator(self.settings.manual_delay_s)))

    def record_success(self, backend: Backend) -> None:
        backend.failures = 0
        if backend.down:
            backend.down = False
            self.note("recovered", backend)

    async def _operator(self, delay_s: float) -> None:
        await self.clock.sleep(delay_s)
        await self.failover("manual (simulated operator)")

    async def _switch(self, how: str) -> None:
        await self.failover(how)

    async def failover(self, how: str) -> bool:
        """Switch to the next backend that is not down, and promote it."""
        if how == "automatic" and not self.current.down:
            return False  # another check already switched
        for offset in range(1, len(self.backends)):
            index = (self.active + offset) % len(self.backends)
            target = self.backends[index]
            if target.down:
                continue
            self.active = index
            try:
                await self.client.post(
                    f"{target.url}/_vendor/promote",
                    headers={"Authorization": f"Bearer {self.api_key}"},
                    timeout=self.settings.timeout_s * 4,
                )
            except httpx.HTTPError as exc:
                self.note("promote_failed", target, error=type(exc).__name__)
            self.note("switched", target, how=how)
            return True
        return False

    async def check(self, backend: Backend) -> None:
        try:
            response = await self.client.get(f"{backend.url}/health", timeout=self.settings.timeout_s)
            ok = response.status_code == 200
            reason = f"health answered {response.status_code}"
        except httpx.HTTPError as exc:
            ok, reason = False, type(exc).__name__
        if ok:
            self.record_success(backend)
        else:
            self.record_failure(backend, reason)

    async def check_loop(self) -> None:
        """Check every backend each interval, so a standby that dies is known before it is needed, and a
        restarted one is usable again (no automatic failback: the active backend stays until it fails)."""
        while True:
            await asyncio.gather(*(self.check(backend) for backend in self.backends))
            if self.current.down and self.settings.failover == "automatic":
                await self.failover("automatic")
            await self.clock.sleep(self.settings.interval_s)


def _unavailable(message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "unavailable", "message": message}}, status_code=503)


async def proxy(request: Request) -> Response:
    front: FrontState = request.app.state.front
    backend = front.current
    if backend.down:
        return _unavailable(f"backend {backend.name} is down; failover {front.settings.failover} pending")
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
    url = f"{backend.url}{request.url.path}"
    try:
        upstream = await front.client.request(
            request.method,
            url,
            params=httpx.QueryParams(request.url.query),
            headers=headers,
            content=await request.body(),
        )
    except httpx.TimeoutException:
        return JSONResponse(
            {"error": {"code": "gateway_timeout", "message": f"{backend.name} timed out"}}, status_code=504
        )
    except httpx.HTTPError as exc:
        if front.settings.passive_checks:
            front.record_failure(backend, f"proxy {type(exc).__name__}")
        return JSONResponse(
            {"error": {"code": "bad_gateway", "message": f"{backend.name}: {type(exc).__name__}"}}, status_code=502
        )
    out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
    return Response(upstream.content, status_code=upstream.status_code, headers=out_headers)


async def status(request: Request) -> Response:
    front: FrontState = request.app.state.front
    return JSONResponse(
        {
            "active": front.current.name,
            "settings": front.settings.model_dump(),
            "backends": [vars(b) for b in front.backends],
            "events": front.events,
        }
    )


async def manual_failover(request: Request) -> Response:
    front: FrontState = request.app.state.front
    switched = await front.failover("manual (operator request)")
    return JSONResponse({"switched": switched, "active": front.current.name})


async def front_health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "role": "front"})


def create_front_app(
    settings: FrontSettings, backends: list[str], *, api_key: str, clock: Clock | None = None
) -> Starlette:
    """A front over ``backends`` (primary first). ``api_key`` lets it promote the standby."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        names = ["primary", *[f"standby-{i}" if len(backends) > 2 else "standby" for i in range(1, len(backends))]]
        client = httpx.AsyncClient(timeout=settings.proxy_timeout_s, limits=httpx.Limits(max_connections=200))
        front = FrontState(
            settings,
            [Backend(n, u.rstrip("/")) for n, u in zip(names, backends, strict=True)],
            api_key,
            clock or SystemClock(),
            client,
        )
        app.state.front = front
        front.tasks.append(asyncio.create_task(front.check_loop(), name="front-checks"))
        try:
            yield
        finally:
            for task in front.tasks:
                task.cancel()
            await asyncio.gather(*front.tasks, return_exceptions=True)
            await client.aclose()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    routes = [
        Route("/_front/health", front_health, methods=["GET"]),
        Route("/_front/status", status, methods=["GET"]),
        Route("/_front/failover", manual_failover, methods=["POST"]),
        Route("/{path:path}", proxy, methods=methods),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
