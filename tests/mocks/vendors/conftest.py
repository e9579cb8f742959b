"""In-process reference vendor for unit tests: Starlette's TestClient (lifespan running) + a fake Graph."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # Starlette 1.x nudges towards httpx2 for its TestClient; httpx is what the project pins.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from mocks.vendors.app import create_vendor_app
from mocks.vendors.config import build_settings
from mocks.vendors.state import VendorState
from tests.mocks.vendors.fake_graph import FakeGraph

API_HEADERS = {"Authorization": "Bearer reference-api-key"}


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll a real background process (workers, webhooks) until ``predicate`` is truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class InProcessVendor:
    client: TestClient
    graph: FakeGraph

    @property
    def state(self) -> VendorState:
        return self.client.app.state.vendor  # type: ignore[attr-defined,no-any-return]

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(path, json=body, headers=API_HEADERS)

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=API_HEADERS)

    def message(self, message_id: str) -> dict[str, Any]:
        return self.get(f"/api/messages/{message_id}").json()  # type: ignore[no-any-return]


@pytest.fixture
def in_process_vendor(tmp_path: Path) -> Iterator[Callable[..., InProcessVendor]]:
    clients: list[TestClient] = []

    def start(profile: str = "steady", graph: FakeGraph | None = None, **overrides: Any) -> InProcessVendor:
        graph = graph or FakeGraph()
        overrides.setdefault("db_path", str(tmp_path / f"vendor-{len(clients)}.sqlite3"))
        overrides.setdefault("whatsapp_url", "http://graph.test")
        settings, _ = build_settings(profile, overrides)
        client = TestClient(create_vendor_app(settings, graph_transport=graph.transport()))
        client.__enter__()
        clients.append(client)
        return InProcessVendor(client, graph)

    yield start
    for client in reversed(clients):
        client.__exit__(None, None, None)
