"""The /_mock/ control plane: ledger export, reset, faults CRUD, events, stats."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from starlette.applications import Starlette

from ground.clock import FakeClock
from ground.correlation import make_token
from ground.records import LEDGER_SCHEMA
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import LedgerConfig, MockConfig
from tests.mocks.whatsapp.helpers import ADMIN, SEND, error_of, template

pytestmark = pytest.mark.anyio


async def _send(client: httpx.AsyncClient, n: int, clock: FakeClock) -> list[str]:
    wamids = []
    for i in range(n):
        clock.advance(1.0)
        response = await client.post(SEND, json=template(to=f"4916{i:08d}", params=(make_token("run001", 0, i),)))
        assert response.status_code == 200, response.text
        wamids.append(response.json()["messages"][0]["id"])
    return wamids


async def test_ledger_exports_ndjson_and_parquet_with_the_shared_schema(
    mock_client: httpx.AsyncClient, fake_clock: FakeClock
) -> None:
    start = fake_clock.now()
    wamids = await _send(mock_client, 3, fake_clock)
    lines = (await mock_client.get("/_mock/ledger", headers=ADMIN)).text.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [row["wamid"] for row in rows] == wamids
    assert list(rows[0]) == LEDGER_SCHEMA.names
    assert rows[1]["correlation_id"] == make_token("run001", 0, 1)
    response = await mock_client.get("/_mock/ledger", params={"format": "parquet", "since": start + 2}, headers=ADMIN)
    table = pq.read_table(io.BytesIO(response.content))
    assert table.schema.equals(LEDGER_SCHEMA)
    assert table.column("wamid").to_pylist() == wamids[1:]


async def test_ledger_spills_to_disk_and_exports_everything(fake_clock: FakeClock, tmp_path: object) -> None:
    config = MockConfig(ledger=LedgerConfig(memory_rows=4, spill_dir=str(tmp_path)))
    app = create_app(config, clock=fake_clock, plugins=[])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://m",
        headers={"Authorization": "Bearer mock-access-token"},
    ) as client:
        wamids = await _send(client, 10, fake_clock)
        ledger = app.state.mock.ledger
        assert len(ledger) == 10 and ledger.memory_size == 2
        rows = [json.loads(line) for line in (await client.get("/_mock/ledger", headers=ADMIN)).text.splitlines()]
        assert [row["wamid"] for row in rows] == wamids
        since = rows[5]["arrived_at"]
        parquet = await client.get("/_mock/ledger", params={"format": "parquet", "since": since}, headers=ADMIN)
        assert pq.read_table(io.BytesIO(parquet.content)).column("wamid").to_pylist() == wamids[5:]
        await client.post("/_mock/reset", headers=ADMIN)
        assert len(ledger) == 0 and (await client.get("/_mock/ledger", headers=ADMIN)).text == ""


async def test_bad_ledger_parameters(mock_client: httpx.AsyncClient) -> None:
    for params in ({"since": "yesterday"}, {"format": "csv"}, {"since": "nan"}):
        response = await mock_client.get("/_mock/ledger", params=params, headers=ADMIN)
        assert response.status_code == 400 and error_of(response)["code"] == 100


async def test_reset_clears_state_and_runs_plugin_hooks(
    mock_client: httpx.AsyncClient, mock_app: Starlette, fake_clock: FakeClock
) -> None:
    state = mock_app.state.mock
    cleared: list[bool] = []
    state.on_reset.append(lambda: cleared.append(True))
    await _send(mock_client, 2, fake_clock)
    await mock_client.post("/_mock/faults", json={"kind": "latency", "ms": 5}, headers=ADMIN)
    assert (await mock_client.post("/_mock/reset", headers=ADMIN)).json() == {"status": "reset"}
    assert len(state.ledger) == 0 and not state.faults.faults and cleared == [True]


async def test_fault_crud_and_event_timeline(mock_client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    created = await mock_client.post(
        "/_mock/faults", json={"kind": "error", "code": 131000, "route": "messages", "probability": 0.5}, headers=ADMIN
    )
    assert created.status_code == 201
    fault_id = created.json()["id"]
    second = (await mock_client.post("/_mock/faults", json={"kind": "outage", "duration_s": 10}, headers=ADMIN)).json()
    listed = (await mock_client.get("/_mock/faults", headers=ADMIN)).json()["faults"]
    assert [fault["id"] for fault in listed] == [fault_id, second["id"]]
    assert listed[1]["until"] == listed[1]["created_at"] + 10
    fake_clock.advance(1)
    assert (await mock_client.delete(f"/_mock/faults/{fault_id}", headers=ADMIN)).status_code == 200
    missing = await mock_client.delete(f"/_mock/faults/{fault_id}", headers=ADMIN)
    assert missing.status_code == 400 and error_of(missing)["error_subcode"] == 33
    assert (await mock_client.delete("/_mock/faults", headers=ADMIN)).json() == {"deleted": [second["id"]]}
    events = (await mock_client.get("/_mock/events", headers=ADMIN)).json()["events"]
    assert [event["action"] for event in events] == ["fault_added", "fault_added", "fault_removed", "faults_cleared"]
    assert events[2]["at"] == events[0]["at"] + 1


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "meteor"},
        {"kind": "latency", "ms": -1},
        {"kind": "error", "probability": 2},
        {"kind": "latency", "distribution": "uniform", "min_ms": 10, "max_ms": 5},
        {"kind": "error", "colour": "red"},
        [1, 2],
    ],
)
async def test_bad_fault_bodies_are_400_with_the_field(body: object, mock_client: httpx.AsyncClient) -> None:
    response = await mock_client.post("/_mock/faults", json=body, headers=ADMIN)
    assert response.status_code == 400 and error_of(response)["code"] == 100


async def test_faults_from_config_are_active_at_start_and_logged(fake_clock: FakeClock) -> None:
    config = MockConfig(faults=[{"kind": "error", "code": 131016}])
    app = create_app(config, clock=fake_clock, plugins=[])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as client:
        response = await client.post(SEND, json=template(), headers={"Authorization": "Bearer mock-access-token"})
        assert error_of(response)["code"] == 131016 and response.status_code == 503
        events = (await client.get("/_mock/events", headers=ADMIN)).json()["events"]
    assert events[0]["source"] == "config faults[0]"


async def test_stats_and_customer_lookup(mock_client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    await _send(mock_client, 1, fake_clock)
    stats = (await mock_client.get("/_mock/stats", headers=ADMIN)).json()
    assert stats["accepted"] == 1 and stats["ledger_rows"] == 1 and stats["rss_bytes"] > 0
    found = (await mock_client.get("/_mock/customers/491600000000", headers=ADMIN)).json()
    assert found["wa_id"] == "491600000000"
    by_bsuid = (await mock_client.get(f"/_mock/customers/{found['user_id']}", headers=ADMIN)).json()
    assert by_bsuid == found


def test_a_configured_spill_dir_keeps_the_ledger_after_shutdown(tmp_path: Path) -> None:
    from mocks.whatsapp.ledger import Ledger, LedgerEntry

    ledger = Ledger(memory_rows=3, spill_dir=str(tmp_path))
    for i in range(5):
        ledger.append(LedgerEntry(float(i), float(i), f"wamid.{i}", "outbound", "1", "49", "text", 10))
    ledger.close()
    files = sorted(tmp_path.glob("ledger-*.parquet"))
    table = pa.concat_tables([pq.read_table(path) for path in files])
    assert table.schema.equals(LEDGER_SCHEMA)
    assert table.column("wamid").to_pylist() == [f"wamid.{i}" for i in range(5)]
