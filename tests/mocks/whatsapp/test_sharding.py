"""``scrmbench mock serve --workers 2``: numbers split between two processes, limits exact per number, requests
and control-plane calls on either port reach the right shard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ground.errors import ConfigError
from mocks.whatsapp.config import LimitsConfig, MockConfig, PhoneNumberConfig
from mocks.whatsapp.sharding import shard_configs
from tests.fixtures.mock_server import MockServer, start_mock_server
from tests.mocks.whatsapp.helpers import two_free_ports

pytestmark = pytest.mark.slow

A, B = "100000000000001", "100000000000002"
GRAPH = {"Authorization": "Bearer mock-access-token"}


def _config(port: int) -> MockConfig:
    return MockConfig(
        port=port,
        phone_numbers=[PhoneNumberConfig(id=A), PhoneNumberConfig(id=B)],
        limits=LimitsConfig(throughput_per_second=0.001, throughput_burst=3, enforce_customer_window=False),
    )


@pytest.fixture
def sharded(tmp_path: Path) -> Iterator[MockServer]:
    server = start_mock_server(_config(two_free_ports()), tmp_path, workers=2)
    try:
        yield server
    finally:
        server.process.stop()


def _text(to: str) -> dict[str, object]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "hi"}}


def test_shard_map_forwarding_and_exact_limits(sharded: MockServer) -> None:
    base, admin = sharded.base_url, sharded.admin_headers
    port = sharded.config.port
    second = f"http://127.0.0.1:{port + 1}"
    shards = httpx.get(f"{base}/_mock/shards", headers=admin).json()["shards"]
    assert [shard["phone_numbers"] for shard in shards] == [[A], [B]]
    assert httpx.get(f"{second}/_mock/health").json()["shard"] == 1
    # B's bucket holds 3; requests through either port draw from the one bucket in shard 1.
    statuses = [
        httpx.post(f"{url}/v22.0/{B}/messages", json=_text(f"49151000000{i}"), headers=GRAPH).status_code
        for i, url in enumerate([base, second, base, second, base])
    ]
    assert statuses == [200, 200, 200, 400, 400]
    assert httpx.post(f"{base}/v22.0/{A}/messages", json=_text("4915100000001"), headers=GRAPH).status_code == 200
    rows = [line for line in httpx.get(f"{base}/_mock/ledger", headers=admin).text.splitlines() if line]
    assert len(rows) == 4 and sum(f'"{B}"' in row for row in rows) == 3
    stats = httpx.get(f"{base}/_mock/stats", headers=admin).json()
    assert stats["accepted"] == 4 and len(stats["shards"]) == 2


def test_control_plane_fans_out_and_media_find_their_shard(sharded: MockServer) -> None:
    base, admin = sharded.base_url, sharded.admin_headers
    second = f"http://127.0.0.1:{sharded.config.port + 1}"
    fault = httpx.post(f"{base}/_mock/faults", json={"kind": "error", "code": 131000}, headers=admin).json()
    on_second = httpx.get(f"{second}/_mock/faults", headers=admin).json()["faults"]
    assert [item["id"] for item in on_second] == [fault["id"]]
    assert httpx.post(f"{second}/v22.0/{B}/messages", json=_text("4915100000002"), headers=GRAPH).status_code == 500
    httpx.delete(f"{base}/_mock/faults/{fault['id']}", headers=admin)
    assert httpx.get(f"{second}/_mock/faults", headers=admin).json()["faults"] == []
    form = {"messaging_product": "whatsapp", "type": "image/png"}
    upload = httpx.post(
        f"{base}/v22.0/{B}/media", data=form, files={"file": ("a.png", b"\x89PNG" + b"0" * 64)}, headers=GRAPH
    )
    media_id = upload.json()["id"]
    assert int(media_id) % 2 == 1  # owned by shard 1
    described = httpx.get(f"{base}/v22.0/{media_id}", headers=GRAPH).json()
    assert described["url"].startswith(second)
    assert httpx.get(described["url"], headers=GRAPH).content.startswith(b"\x89PNG")
    away = httpx.post(f"{second}/_mock/customers/4915100000009/unreachable", json={"for_s": 3600}, headers=admin)
    assert away.status_code == 200 and away.json()["unreachable_until"] is not None
    events = httpx.get(f"{base}/_mock/events", headers=admin).json()["events"]
    assert [event["action"] for event in events].count("fault_added") == 2  # one per shard
    assert [event["action"] for event in events].count("customer_unreachable") == 2  # the phone is off on both


def test_more_workers_than_numbers_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="phone numbers"):
        shard_configs(MockConfig(port=9000), 2)
