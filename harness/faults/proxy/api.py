"""The chaos proxy's HTTP control API, modelled on Toxiproxy's (same routes and JSON shapes).

    GET  /version                          {"version": ...}
    GET  /proxies                          {name: proxy}
    POST /proxies                          {"name", "listen", "upstream", "enabled"} -> 201 proxy
    POST /populate                         [proxy, ...] -> 201 {"proxies": [...]} (existing names are kept)
    GET, POST, DELETE /proxies/{proxy}     POST {"enabled": false} takes it down
    GET, POST /proxies/{proxy}/toxics      POST {"name", "type", "stream", "toxicity", "attributes"} -> 200 toxic
    GET, POST, DELETE /proxies/{proxy}/toxics/{toxic}
    POST /reset                            every proxy enabled, every toxic removed -> 204

Errors come from the table in ``errors.py`` as ``{"error": ..., "status": ...}``. Every route is named, and
each answer carries ``X-Request-Id``. The app is built by a factory over a :class:`ProxyCollection` and runs in
the same event loop as the proxies, so handlers change proxy state without locks.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness import __version__
from harness.faults.proxy.errors import BAD_BODY, ApiError
from harness.faults.proxy.server import ProxyCollection
from harness.faults.proxy.toxics import ToxicSpec

log = logging.getLogger(__name__)
Handler = Callable[[Request], Awaitable[Response]]


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise BAD_BODY.with_detail(f"not JSON ({exc})") from None


def _proxy_fields(data: Any) -> tuple[str, str, str, bool]:
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("name", "listen", "upstream")):
        raise BAD_BODY.with_detail('a proxy needs string fields "name", "listen" and "upstream"')
    return data["name"], data["listen"], data["upstream"], bool(data.get("enabled", True))


class _Handlers:
    """One method per route; state is the collection given to the factory (no module globals)."""

    def __init__(self, proxies: ProxyCollection) -> None:
        self.proxies = proxies

    async def version(self, request: Request) -> Response:
        return JSONResponse({"version": __version__})

    async def proxy_index(self, request: Request) -> Response:
        return JSONResponse({name: proxy.to_json() for name, proxy in self.proxies.proxies.items()})

    async def proxy_create(self, request: Request) -> Response:
        name, listen, upstream, enabled = _proxy_fields(await _body(request))
        proxy = await self.proxies.create(name, listen, upstream, enabled=enabled)
        return JSONResponse(proxy.to_json(), status_code=201)

    async def populate(self, request: Request) -> Response:
        data = await _body(request)
        if not isinstance(data, list):
            raise BAD_BODY.with_detail("expected a list of proxies")
        created = []
        for item in data:
            name, listen, upstream, enabled = _proxy_fields(item)
            existing = self.proxies.proxies.get(name)
            proxy = existing or await self.proxies.create(name, listen, upstream, enabled=enabled)
            created.append(proxy.to_json())
        return JSONResponse({"proxies": created}, status_code=201)

    async def proxy_show(self, request: Request) -> Response:
        return JSONResponse(self.proxies.get(request.path_params["proxy"]).to_json())

    async def proxy_update(self, request: Request) -> Response:
        proxy = self.proxies.get(request.path_params["proxy"])
        data = await _body(request)
        if not isinstance(data, dict) or not isinstance(data.get("enabled", True), bool):
            raise BAD_BODY.with_detail('expected {"enabled": true|false}')
        if "enabled" in data:
            await proxy.set_enabled(data["enabled"])
        return JSONResponse(proxy.to_json())

    async def proxy_delete(self, request: Request) -> Response:
        await self.proxies.delete(request.path_params["proxy"])
        return Response(status_code=204)

    async def toxic_index(self, request: Request) -> Response:
        proxy = self.proxies.get(request.path_params["proxy"])
        return JSONResponse([spec.model_dump() for spec in proxy.toxics()])

    async def toxic_create(self, request: Request) -> Response:
        proxy = self.proxies.get(request.path_params["proxy"])
        try:
            spec = ToxicSpec.model_validate(await _body(request))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise BAD_BODY.with_detail(f"{'.'.join(map(str, first['loc'])) or 'body'}: {first['msg']}") from None
        return JSONResponse(proxy.add_toxic(spec).model_dump())

    async def toxic_show(self, request: Request) -> Response:
        proxy, name = self.proxies.get(request.path_params["proxy"]), request.path_params["toxic"]
        for spec in proxy.toxics():
            if spec.name == name:
                return JSONResponse(spec.model_dump())
        return JSONResponse(ApiError(f"toxic not found: no toxic {name!r}", 404).as_json(), status_code=404)

    async def toxic_update(self, request: Request) -> Response:
        proxy = self.proxies.get(request.path_params["proxy"])
        data = await _body(request)
        if not isinstance(data, dict):
            raise BAD_BODY.with_detail('expected {"attributes": {...}, "toxicity": ...}')
        return JSONResponse(proxy.update_toxic(request.path_params["toxic"], data).model_dump())

    async def toxic_delete(self, request: Request) -> Response:
        self.proxies.get(request.path_params["proxy"]).remove_toxic(request.path_params["toxic"])
        return Response(status_code=204)

    async def reset(self, request: Request) -> Response:
        await self.proxies.reset()
        return Response(status_code=204)


def create_api_app(proxies: ProxyCollection) -> Starlette:
    h = _Handlers(proxies)
    ids = itertools.count(1)

    def route(path: str, handler: Handler, method: str, name: str) -> Route:
        methods = [method, "PATCH"] if method == "POST" and "{proxy}" in path else [method]
        return Route(path, _guard(handler, ids), methods=methods, name=name)

    return Starlette(
        routes=[
            route("/version", h.version, "GET", "Version"),
            route("/proxies", h.proxy_index, "GET", "ProxyIndex"),
            route("/proxies", h.proxy_create, "POST", "ProxyCreate"),
            route("/populate", h.populate, "POST", "Populate"),
            route("/reset", h.reset, "POST", "ResetState"),
            route("/proxies/{proxy}", h.proxy_show, "GET", "ProxyShow"),
            route("/proxies/{proxy}", h.proxy_update, "POST", "ProxyUpdate"),
            route("/proxies/{proxy}", h.proxy_delete, "DELETE", "ProxyDelete"),
            route("/proxies/{proxy}/toxics", h.toxic_index, "GET", "ToxicIndex"),
            route("/proxies/{proxy}/toxics/{toxic}", h.toxic_show, "GET", "ToxicShow"),
            route("/proxies/{proxy}/toxics/{toxic}", h.toxic_update, "POST", "ToxicUpdate"),
            route("/proxies/{proxy}/toxics/{toxic}", h.toxic_delete, "DELETE", "ToxicDelete"),
            Route("/proxies/{proxy}/toxics", _guard(h.toxic_create, ids), methods=["POST"], name="ToxicCreate"),
        ]
    )


def _guard(handler: Handler, ids: Iterator[int]) -> Handler:
    """Map ApiError to its JSON answer, anything else to a logged 500, and stamp a request id."""

    async def guarded(request: Request) -> Response:
        request_id = str(next(ids))
        try:
            response = await handler(request)
        except ApiError as exc:
            response = JSONResponse(exc.as_json(), status_code=exc.status)
        except Exception:
            log.exception("proxy API %s %s failed without a mapped error", request.method, request.url.path)
            response = JSONResponse({"error": "internal error", "status": 500}, status_code=500)
        response.headers["X-Request-Id"] = request_id
        return response

    guarded.__name__ = handler.__name__
    return guarded
