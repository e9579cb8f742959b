"""``create_vendor_app(settings)``: the reference SCRM as a Starlette app (no module globals).

Every ``/api/`` and ``/_vendor/`` route needs ``Authorization: Bearer <REFERENCE_API_KEY>``; ``/health``,
``/openapi.json`` and the webhook routes do not (WhatsApp authenticates itself by signature).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ground.clock import Clock, SystemClock
from mocks.vendors import agents, api, webhooks
from mocks.vendors.latency import sample_ms
from mocks.vendors.openapi import openapi_document
from mocks.vendors.settings import VendorSettings
from mocks.vendors.state import VendorState
from mocks.vendors.timing import ServiceTimer, TimingLog, note, timings_endpoint

Handler = Callable[[Request], Awaitable[Response]]


async def wait_at_least(clock: Clock, seconds: float, max_rounds: int = 100) -> None:
    """Sleep, then sleep off any remainder: uvloop keeps timers in whole ms of a cached loop clock, so one
    ``asyncio.sleep`` can return up to about a millisecond early, and the injected draw is a floor."""
    deadline = clock.monotonic() + seconds
    await clock.sleep(seconds)
    for _ in range(max_rounds):  # each round waits out the remainder; a handful at most in practice
        left = deadline - clock.monotonic()
        if left <= 0:
            return
        await clock.sleep(left)


def guarded(handler: Handler, *, inject: bool = True) -> Handler:
    """Auth, then the profile's injected latency and errors (zero for every profile but `calibrated`).

    ``inject=False`` for the ``/_vendor/`` routes: observing the truth must not consume the seeded draws.
    """

    async def endpoint(request: Request) -> Response:
        if not api.authorized(request):
            return api.error(401, "unauthorized", "missing or wrong Authorization: Bearer <REFERENCE_API_KEY>")
        state: VendorState = request.app.state.vendor
        if not state.promoted and request.url.path.startswith("/api/"):
            # A balancer that knows nothing of promotion (nginx) fails over by sending traffic here: take over.
            state.promote()
        settings = state.settings
        if inject and (settings.api_latency is not None or settings.api_error_rate):
            rng: random.Random = request.app.state.fault_rng
            if settings.api_latency is not None:
                injected_ms = sample_ms(settings.api_latency, rng)
                note(request, injected_ms=injected_ms)  # the draw, beside what the vendor realised (timing.py)
                await wait_at_least(state.clock, injected_ms / 1000.0)
            if settings.api_error_rate and rng.random() < settings.api_error_rate:
                return api.error(500, "injected_error", "calibrated profile: injected error")
        return await handler(request)

    endpoint.__name__ = handler.__name__
    return endpoint


async def health(request: Request) -> Response:
    state: VendorState = request.app.state.vendor
    settings = state.settings
    return JSONResponse(
        {"status": "ok", "profile": settings.profile, "role": settings.role, "instance": settings.instance}
    )


async def stats(request: Request) -> Response:
    state: VendorState = request.app.state.vendor
    return JSONResponse(
        {
            "profile": state.settings.profile,
            "role": state.settings.role,
            "promoted": state.promoted,
            "outbound": state.outbound.stats(),
            "webhooks": dict(state.webhook_counts),
            "inbox_depth": state.inbox.qsize(),
            "desk": state.desk.stats(),
        }
    )


async def promote(request: Request) -> Response:
    state: VendorState = request.app.state.vendor
    state.promote()
    return JSONResponse({"promoted": True, "instance": state.settings.instance})


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


def create_vendor_app(
    settings: VendorSettings,
    *,
    clock: Clock | None = None,
    graph_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The app. ``graph_transport`` lets tests route Graph calls to an in-process fake."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state = VendorState(settings, clock or SystemClock(), graph_transport)
        app.state.vendor = state
        app.state.fault_rng = random.Random(settings.seed)
        state.start()
        state.tasks.append(asyncio.create_task(webhooks.process_inbox(state), name="inbox"))
        try:
            yield
        finally:
            await state.close()

    g = guarded
    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/webhooks/whatsapp", webhooks.verify_handshake, methods=["GET"]),
        Route("/webhooks/whatsapp", webhooks.receive, methods=["POST"]),
        Route("/api/messages", g(api.send_text), methods=["POST"]),
        Route("/api/messages/template", g(api.send_template), methods=["POST"]),
        Route("/api/messages/media", g(api.send_media), methods=["POST"]),
        Route("/api/messages/{id}", g(api.message_status), methods=["GET"]),
        Route("/api/media", g(api.upload_media), methods=["POST"]),
        Route("/api/broadcasts", g(api.start_broadcast), methods=["POST"]),
        Route("/api/broadcasts/{id}", g(api.broadcast_status), methods=["GET"]),
        Route("/api/conversations", g(api.conversations), methods=["GET"]),
        Route("/api/conversations/{id}/assign", g(api.assign), methods=["POST"]),
        Route("/api/contacts/{wa_id}/tags", g(api.tag_contact), methods=["POST"]),
        Route("/api/agents/{agent}/online", g(agents.online), methods=["POST"]),
        Route("/api/agents/{agent}/offline", g(agents.offline), methods=["POST"]),
        Route("/api/agents/{agent}/inbox", g(agents.inbox), methods=["GET"]),
        Route("/api/conversations/{id}/reply", g(agents.reply), methods=["POST"]),
        Route("/api/conversations/{id}/close", g(agents.close), methods=["POST"]),
        Route("/_vendor/assignments", g(agents.assignments, inject=False), methods=["GET"]),
        Route("/_vendor/stats", g(stats, inject=False), methods=["GET"]),
        Route("/_vendor/promote", g(promote, inject=False), methods=["POST"]),
        Route("/_vendor/timings", g(timings_endpoint, inject=False), methods=["GET"]),
    ]
    # Around every route: each request's realised service time (Server-Timing, GET /_vendor/timings).
    timings = TimingLog(settings.timings_capacity)
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(ServiceTimer, log=timings)])
    app.state.timings = timings
    return app
