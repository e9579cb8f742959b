"""Schemathesis against the served OpenAPI document: no 5xx, every error in Graph's envelope (issue 10).

The state is reset after each case (faults, limits, ledger), so a fuzzed fault or limit change cannot turn later
cases into intended 5xx answers or long injected sleeps. Covers the Graph routes and the control plane.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import MockConfig

pytestmark = pytest.mark.slow

APP = create_app(MockConfig(), plugins=[])
schema = schemathesis.openapi.from_asgi("/_mock/openapi.json", APP)

GRAPH = {"Authorization": "Bearer mock-access-token"}
ADMIN = {"Authorization": "Bearer mock-admin-token"}


def _headers(case: Any) -> dict[str, str]:
    headers = dict(case.headers or {})
    if "authorization" not in {name.lower() for name in headers}:
        headers.update(ADMIN if case.path.startswith("/_mock/") else GRAPH)
    return headers


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_graph_envelopes(case: Any) -> None:
    state = APP.state.mock
    try:
        response = case.call(headers=_headers(case))
    finally:
        state.reset()
        state.limiters.update(state.config.limits)
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text)
    if response.status_code >= 400:
        body = response.json()
        error = body["error"]
        assert isinstance(error["code"], int) and error["message"] and error["fbtrace_id"], body
