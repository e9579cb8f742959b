"""What the facades share: settings, the upstream Graph client, the health route and small answer helpers."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ground.registry import Registry

Dialect = Literal["twilio", "wati", "360dialog"]
# Each dialect module adds its app factory here at its end (``FACADES.add("twilio", create_twilio_app)``).
FACADES: Registry[Callable[..., Starlette]] = Registry("facade dialect", field="dialect")
DIALECTS: tuple[Dialect, ...] = ("twilio", "wati", "360dialog")

# Development credentials the facades accept when the environment names none; like the mock's
# "mock-access-token", they guard nothing and exist so local trials work without setup.
DEV_KEYS: dict[str, str] = {
    "twilio": "twilio-dev-auth-token",
    "wati": "wati-dev-token",
    "360dialog": "d360-dev-api-key",
}
DEV_TWILIO_ACCOUNT_SID = "AC" + "0" * 31 + "1"
KEY_ENV = "SCRMBENCH_FACADE_API_KEY"  # the key clients must present
GRAPH_TOKEN_ENV = "SCRMBENCH_FACADE_GRAPH_TOKEN"  # the token the facade presents to the mock


@dataclass(frozen=True)
class FacadeSettings:
    dialect: Dialect
    whatsapp_url: str  # the mock Graph API's base URL
    api_key: str
    graph_token: str = "mock-access-token"
    phone_number_id: str = "100000000000001"
    api_version: str = "v23.0"
    account_sid: str = DEV_TWILIO_ACCOUNT_SID  # Twilio only
    upstream_timeout: float = 30.0
    display_phone_number: str = "15550000001"  # the default number's digits (the mock's default display number)
    # The business numbers a request may name (digits -> the mock's phone-number id), besides the default one.
    numbers: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"FacadeSettings({self.dialect} -> {self.whatsapp_url}, [secrets redacted])"

    def number_id(self, digits: str | None) -> str | None:
        """The mock's phone-number id to send from for the business number ``digits`` (None: the default number's);
        None when the facade has no such number."""
        if not digits:
            return self.phone_number_id
        digits = digits.lstrip("+")
        known = self.numbers.get(digits)
        return known or (self.phone_number_id if digits == self.display_phone_number else None)

    @classmethod
    def from_env(cls, dialect: Dialect, whatsapp_url: str, **overrides: Any) -> FacadeSettings:
        return cls(
            dialect=dialect,
            whatsapp_url=whatsapp_url.rstrip("/"),
            api_key=os.environ.get(KEY_ENV) or DEV_KEYS[dialect],
            graph_token=os.environ.get(GRAPH_TOKEN_ENV) or "mock-access-token",
            **overrides,
        )


class Upstream:
    """The facade's client for the mock Graph API; created in the app's lifespan, one per app."""

    def __init__(self, settings: FacadeSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.client = httpx.AsyncClient(
            base_url=settings.whatsapp_url,
            headers={"Authorization": f"Bearer {settings.graph_token}"},
            timeout=settings.upstream_timeout,
            transport=transport,
            trust_env=False,
        )
        self.prefix = f"/{settings.api_version}/{settings.phone_number_id}"

    async def send(self, body: Mapping[str, Any], phone_number_id: str | None = None) -> tuple[int, Any]:
        """POST the message from ``phone_number_id`` (default: the facade's number)."""
        prefix = f"/{self.settings.api_version}/{phone_number_id}" if phone_number_id else self.prefix
        return await self._call("POST", f"{prefix}/messages", json=dict(body))

    async def upload(self, content: bytes, mime_type: str, filename: str) -> tuple[int, Any]:
        files = {"file": (filename, content, mime_type)}
        data = {"messaging_product": "whatsapp", "type": mime_type}
        return await self._call("POST", f"{self.prefix}/media", files=files, data=data)

    async def forward_raw(self, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        try:
            response = await self.client.post(
                f"{self.prefix}{path}", content=body, headers={"Content-Type": content_type}
            )
        except httpx.HTTPError as exc:
            return 502, orjson.dumps({"error": {"message": f"upstream unreachable: {type(exc).__name__}", "code": 2}})
        return response.status_code, response.content

    async def _call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        try:
            response = await self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            return 502, {"error": {"message": f"upstream unreachable: {type(exc).__name__}", "code": 2}}
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, {"error": {"message": response.text[:200], "code": response.status_code}}

    async def aclose(self) -> None:
        await self.client.aclose()


def upstream(request: Request) -> Upstream:
    return request.app.state.upstream  # type: ignore[no-any-return]


def settings_of(request: Request) -> FacadeSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def graph_error(data: Any) -> tuple[int | None, str]:
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, "unknown upstream error"
    code = error.get("code")
    return (code if isinstance(code, int) else None), str(error.get("message") or "upstream error")


def wamid_of(data: Any) -> str | None:
    try:
        return str(data["messages"][0]["id"])
    except (KeyError, IndexError, TypeError):
        return None


def media_kind(mime_type: str) -> str:
    major = mime_type.split("/", 1)[0]
    return major if major in ("image", "video", "audio") else "document"


def new_id(prefix: str, length: int = 32) -> str:
    return prefix + secrets.token_hex(length // 2)


def json_response(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def secure_equal(given: str | None, expected: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "dialect": settings_of(request).dialect})


def build_app(
    settings: FacadeSettings,
    routes: list[BaseRoute],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    services: Sequence[Callable[[Starlette], AbstractAsyncContextManager[None]]] = (),
) -> Starlette:
    """The facade app: its routes, ``/_facade/health``, and an upstream client living as long as the app.
    ``services`` run inside the app's lifespan, after the upstream client opens and before it closes."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.upstream = Upstream(settings, transport)
        try:
            async with AsyncExitStack() as stack:
                for service in services:
                    await stack.enter_async_context(service(app))
                yield
        finally:
            await app.state.upstream.aclose()

    app = Starlette(
        routes=[Route("/_facade/health", _health, methods=["GET"]), *routes],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
