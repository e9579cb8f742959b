"""Schemathesis against the vendor's served OpenAPI document, on a real process: no 5xx, errors in the envelope.

The schema is loaded from the running process (its port is only known at run time), and each operation's
strategy runs under hypothesis directly, which also keeps the test independent of schemathesis' pytest plug-in.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from mocks.whatsapp.config import LimitsConfig, MockConfig
from tests.fixtures.vendors import VENDOR_API_HEADERS

pytestmark = pytest.mark.slow


@pytest.fixture
def mock_config() -> MockConfig:
    return MockConfig(limits=LimitsConfig(enforce_customer_window=False, tier="unlimited"))


def check_answer(case: Any, response: Any) -> None:
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text)
    content_type = response.headers.get("content-type") or [""]  # schemathesis gives each header as a list
    is_json = str(content_type[0] if isinstance(content_type, list) else content_type).startswith("application/json")
    if response.status_code >= 400 and is_json:
        error = response.json()["error"]
        assert error["code"] and error["message"], response.text


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_no_server_errors_and_the_error_envelope(reference_vendor, mock_server, mode):
    vendor = reference_vendor("steady", whatsapp_url=mock_server.base_url)
    schema = schemathesis.openapi.from_url(f"{vendor.base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13

    for operation in operations:

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: Any) -> None:
            headers = dict(case.headers or {})
            if "authorization" not in {name.lower() for name in headers}:
                headers.update(VENDOR_API_HEADERS)
            check_answer(case, case.call(base_url=vendor.base_url, headers=headers, timeout=10))

        try:
            run()
        except Unsatisfiable:
            # An operation with nothing to break (GET /health has no parameters) has no negative cases.
            assert mode is GenerationMode.NEGATIVE, operation.label
