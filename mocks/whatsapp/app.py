"""The mock WhatsApp Cloud API as a Starlette app: ``create_app(config, *, clock=None, plugins=None)``.

    app = create_app(MockConfig())          # everything hangs off app.state.mock (a MockState)
    uvicorn.run(app, host="127.0.0.1", port=8900)

Plugging in (how the webhook engine in ``mocks/whatsapp/webhooks`` joins the app)
-------------------------------------------------------------------------------
A plug-in is any object with the ``MockPlugin`` shape below: a ``name``, ``routes(state)`` returning extra
Starlette routes (mounted after the send routes, which only match ``/vNN.N/{digits}/messages`` and
``/{digits}/messages``, and before the Graph catch-all routes, so ``/_mock/...`` paths of a plug-in win), and async
``startup(state)`` / ``shutdown(state)`` run in the app's lifespan (start and stop background engines there).
An optional ``openapi()`` returns ``{"paths": ..., "schemas": ...}`` merged into the served OpenAPI document.
From ``startup`` a plug-in typically appends to ``state.on_accepted`` (status ladders), ``state.on_reset``
(clear its queues on ``POST /_mock/reset``) and keeps its objects in ``state.extensions[name]``.

- Explicitly: ``create_app(config, plugins=[my_plugin])``.
- By default (``plugins=None``), ``create_app`` imports each module named in ``DEFAULT_PLUGIN_MODULES`` and, if it
  defines ``create_plugin(config) -> MockPlugin``, uses it. So the webhooks package only has to define
  ``create_plugin`` in ``mocks/whatsapp/webhooks/__init__.py``; pass ``plugins=[]`` for a bare core.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Lifespan, Receive, Scope, Send

from ground.clock import Clock, SystemClock
from mocks.whatsapp.config import MockConfig
from mocks.whatsapp.control import control_routes
from mocks.whatsapp.errors import GraphError, render
from mocks.whatsapp.fault_middleware import RAW_SEND, FaultMiddleware
from mocks.whatsapp.graph import graph_routes, send_routes
from mocks.whatsapp.health import ServiceTimeMiddleware
from mocks.whatsapp.openapi import openapi_document
from mocks.whatsapp.shedding import ShedMiddleware
from mocks.whatsapp.state import MockState

log = logging.getLogger("mocks.whatsapp")

DEFAULT_PLUGIN_MODULES: tuple[str, ...] = ("mocks.whatsapp.webhooks",)


class MockPlugin(Protocol):
    name: str

    def routes(self, state: MockState) -> Sequence[BaseRoute]: ...

    async def startup(self, state: MockState) -> None: ...

    async def shutdown(self, state: MockState) -> None: ...


class CachedRouter(Router):
    """Starlette's Router plus one cache: (method, path) -> the Route that served it and its path parameters.

    A request whose path was matched before skips the walk through the route list (for each route tried: a regex
    and its convertors); ``Route.handle`` still checks the method. Every route goes through it alike: the send
    routes, the control plane, a benchmark's bare endpoint. Only a full match by a top-level ``Route`` is kept
    (405s, redirects, 404s, mounts and requests with a ``root_path`` take Starlette's walk each time); each
    request gets its own copy of the path parameters; the cache is emptied when the route list changes length
    and when it holds ``CACHE_SIZE`` paths.
    """

    CACHE_SIZE = 4_096

    def __init__(self, routes: Sequence[BaseRoute], *, lifespan: Lifespan[Starlette]) -> None:
        super().__init__(routes, lifespan=lifespan)
        self._served: dict[tuple[str, str], tuple[Route, dict[str, Any]]] = {}
        self._routes_len = len(self.routes)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("root_path"):
            await super().app(scope, receive, send)
            return
        key = (scope["method"], scope["path"])
        if len(self.routes) != self._routes_len:
            self._served.clear()
            self._routes_len = len(self.routes)
        hit = self._served.get(key)
        if hit is None:
            hit = self._first_full_match(scope)
            if hit is None:  # no route takes it as it is: 405, redirect or 404 the uncached way
                await super().app(scope, receive, send)
                return
            if len(self._served) >= self.CACHE_SIZE:
                self._served.clear()
            self._served[key] = hit
        route, params = hit
        if "router" not in scope:
            scope["router"] = self
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = params.copy()
        await route.handle(scope, receive, send)

    def _first_full_match(self, scope: Scope) -> tuple[Route, dict[str, Any]] | None:
        """The route Starlette's walk would hand the request to when one matches fully, if it is a plain Route."""
        for route in self.routes:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return (route, child_scope["path_params"]) if isinstance(route, Route) else None
        return None


class MockApp(Starlette):
    """A Starlette app that keeps the server's own ``send`` in the scope, so an injected connection drop can close
    the socket before any response byte (fault_middleware.py); Starlette's error middleware wraps ``send``. Its
    router is a ``CachedRouter``."""

    def __init__(self, *, routes: Sequence[BaseRoute], lifespan: Lifespan[Starlette], **kwargs: Any) -> None:
        super().__init__(routes=routes, lifespan=lifespan, **kwargs)
        self.router = CachedRouter(routes, lifespan=lifespan)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[RAW_SEND] = send
        await super().__call__(scope, receive, send)


def default_plugins(config: MockConfig) -> list[MockPlugin]:
    plugins: list[MockPlugin] = []
    for module_name in DEFAULT_PLUGIN_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module_name.startswith(exc.name):
                continue  # the plug-in is not installed: the core runs alone
            raise
        factory = getattr(module, "create_plugin", None)
        if factory is not None:
            plugins.append(factory(config))
    return plugins


async def _graph_error(request: Request, exc: Exception) -> Response:
    state: MockState = request.app.state.mock
    if not isinstance(exc, GraphError):  # pragma: no cover - registered for GraphError only
        raise exc
    state.counters["rejected"] += 1
    return render(exc, state.trace_ids.next(), state.config.rate_limit_http_status)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods also answer in Graph's envelope."""
    state: MockState = request.app.state.mock
    status = exc.status_code if isinstance(exc, HTTPException) else 400
    method, path = request.method.lower(), request.url.path
    title = f"Unsupported {method} request. Unknown path components: {path}"
    error = GraphError(100, http_status=400 if status == 404 else status, title=title, with_error_data=False)
    return render(error, state.trace_ids.next(), state.config.rate_limit_http_status)


def create_app(
    config: MockConfig | None = None,
    *,
    clock: Clock | None = None,
    plugins: Sequence[MockPlugin] | None = None,
) -> Starlette:
    config = config or MockConfig()
    state = MockState(config, clock or SystemClock())
    chosen = list(default_plugins(config) if plugins is None else plugins)
    for index, spec in enumerate(config.faults):
        state.add_fault(spec, source=f"config faults[{index}]")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started: list[MockPlugin] = []
        await state.health.start()
        try:
            for plugin in chosen:
                await plugin.startup(state)
                started.append(plugin)
            yield
        finally:
            for plugin in reversed(started):
                try:
                    await plugin.shutdown(state)
                except Exception:
                    log.exception("plug-in %s failed to shut down", plugin.name)
            await state.shards.close()
            await state.health.stop()
            state.close()

    extra = [plugin.openapi() for plugin in chosen if callable(getattr(plugin, "openapi", None))]  # type: ignore[attr-defined]
    document = orjson.dumps(openapi_document(config, extra))

    async def openapi(request: Request) -> Response:
        return Response(document, media_type="application/json")

    routes = send_routes()
    routes.append(Route("/_mock/openapi.json", openapi, methods=["GET"], name="openapi"))
    routes += control_routes()
    for plugin in chosen:
        routes += list(plugin.routes(state))
    routes += graph_routes()
    app = MockApp(
        routes=routes,
        middleware=[
            Middleware(ServiceTimeMiddleware, health=state.health),  # outermost: shed and faulted requests count
            Middleware(ShedMiddleware),
            Middleware(FaultMiddleware),
        ],
        exception_handlers={GraphError: _graph_error, HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.mock = state
    return app
