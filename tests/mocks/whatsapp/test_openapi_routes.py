"""The served OpenAPI document and the app's routes name the same operations (issue 18: the 2026 routes, such as
``marketing_messages``, are in the document), both ways, plug-ins' routes included."""

from __future__ import annotations

import re

import httpx
import orjson
import pytest

from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import MockConfig

pytestmark = pytest.mark.anyio

_VERSIONED = re.compile(r"^/v\{major:int\}\.\{minor:int\}/")
_CONVERTER = re.compile(r"\{(\w+):\w+\}")


def documented_form(path: str) -> str:
    """A route path as the document writes it: ``{version}`` for the version segment (the document says a call may
    leave it out, so an unversioned Graph route is its versioned twin) and no ``:int`` converters."""
    path = _VERSIONED.sub("/{version}/", path)
    path = _CONVERTER.sub(r"{\1}", path)
    if not path.startswith(("/_mock/", "/mock-cdn/", "/{version}/")):
        path = "/{version}" + path
    return path


def served_operations() -> set[tuple[str, str]]:
    app = create_app(MockConfig())  # the default plug-ins (webhooks) too
    operations = set()
    for route in app.routes:
        path = getattr(route, "path", None)
        if path is None:
            continue
        for method in set(getattr(route, "methods", None) or ()) - {"HEAD"}:
            operations.add((method.lower(), documented_form(path)))
    return operations


async def documented_operations() -> set[tuple[str, str]]:
    app = create_app(MockConfig())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock.test") as client:
        document = orjson.loads((await client.get("/_mock/openapi.json")).content)
    return {(method, path) for path, item in document["paths"].items() for method in item}


async def test_every_route_is_in_the_openapi_document_and_every_documented_one_is_served() -> None:
    served, documented = served_operations(), await documented_operations()
    assert served - documented == set(), "routes missing from mocks/whatsapp/openapi.py"
    assert documented - served == set(), "documented operations no route serves"
    # The 2026 routes are there (docs/whatsapp-2026.md §1-4).
    assert {
        ("post", "/{version}/{phone_number_id}/marketing_messages"),
        ("post", "/_mock/numbers/{phone_number_id}/throughput_upgrade"),
        ("post", "/_mock/customers/{key}/unreachable"),
    } <= documented


async def test_the_marketing_body_in_the_document_is_the_one_the_route_takes() -> None:
    app = create_app(MockConfig())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock.test") as client:
        document = orjson.loads((await client.get("/_mock/openapi.json")).content)
    operation = document["paths"]["/{version}/{phone_number_id}/marketing_messages"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["type"]["enum"] == ["template"]
    ttl = schema["properties"]["message_send_ttl_seconds"]
    assert (ttl["minimum"], ttl["maximum"]) == (12 * 3_600, 30 * 86_400)
    assert {"message_activity_sharing", "optimization_spec", "template", "to"} <= set(schema["properties"])
    assert "bid_spec" not in schema["properties"]
