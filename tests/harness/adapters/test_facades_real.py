"""Each dialect through a real facade process in front of the real mock process (``mock_server``): the sync
httpx path the contract check uses, on real sockets."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest
import yaml

from harness.adapters.executors import connect
from harness.adapters.registry import parse_profile
from tests.fixtures.facades import open_limits_config

VENDORS = Path(__file__).resolve().parents[3] / "vendors"
pytestmark = pytest.mark.slow
PROFILES = {"twilio": "twilio-facade.yaml", "wati": "wati-facade.yaml", "360dialog": "360dialog-facade.yaml"}


@pytest.fixture
def mock_config():
    return open_limits_config()  # no 24 h window or pair limit: this checks dialects, not Meta's limits


@pytest.mark.parametrize("dialect", list(PROFILES))
def test_a_real_facade_forwards_sends_to_the_real_mock(dialect, mock_server, facade_server) -> None:
    facade = facade_server(dialect, mock_server.base_url)
    data = yaml.safe_load((VENDORS / PROFILES[dialect]).read_text())
    data["base_url"] = facade.base_url
    vendor = connect(parse_profile(data, source=PROFILES[dialect]))
    assert vendor.health().ok
    text = vendor.send_text("+4915112345678", "hello", correlation_id="sb-real01-1")
    template = vendor.send_template("+4915112345678", "order_update", ("Ada",), correlation_id="sb-real01-2")
    assert text.ok and template.ok, (text, template)
    assert text.latency_ms is not None and text.bytes_received > 0
    ledger = httpx.get(
        f"{mock_server.base_url}/_mock/ledger", params={"format": "ndjson"}, headers=mock_server.admin_headers
    )
    tokens = {orjson.loads(line)["correlation_id"] for line in ledger.content.splitlines() if line.strip()}
    assert {"sb-real01-1", "sb-real01-2"} <= tokens


def test_a_facade_whose_mock_is_down_answers_in_its_own_dialect(facade_server) -> None:
    from ground.net import free_port

    facade = facade_server("twilio", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    data = yaml.safe_load((VENDORS / PROFILES["twilio"]).read_text())
    data["base_url"] = facade.base_url
    outcome = connect(parse_profile(data, source="twilio")).send_text(
        "+4915112345678", "hi", correlation_id="sb-real01-3"
    )
    assert (outcome.result, outcome.http_status, outcome.error_code) == ("indeterminate", 500, "30008")
