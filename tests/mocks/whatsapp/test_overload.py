"""Overload (issue 10): a bounded burst far over the limit is shed with the rate-limit error or 503, the control
plane keeps answering, nothing grows without bound, and the mock recovers as soon as the load drops."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from ground.clock import FakeClock
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import LedgerConfig, LimitsConfig, MockConfig
from tests.fixtures.mock_server import start_mock_server
from tests.mocks.whatsapp.helpers import ADMIN, SEND, error_of, template, text

pytestmark = pytest.mark.anyio

GRAPH = {"Authorization": "Bearer mock-access-token"}


async def test_ten_times_the_limit_is_shed_exactly_and_recovers_at_once(fake_clock: FakeClock, tmp_path: Path) -> None:
    config = MockConfig(
        limits=LimitsConfig(throughput_per_second=50, enforce_customer_window=False, pair_burst=10**6),
        ledger=LedgerConfig(memory_rows=100, spill_dir=str(tmp_path)),
    )
    app = create_app(config, clock=fake_clock, plugins=[])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m", headers=GRAPH) as client:
        burst = await asyncio.gather(*(client.post(SEND, json=text()) for _ in range(500)))
        health = await client.get("/_mock/stats", headers=ADMIN)
        statuses = [response.status_code for response in burst]
        assert statuses.count(200) == 50 and statuses.count(400) == 450
        assert {error_of(r)["code"] for r in burst if r.status_code != 200} == {130429}
        assert health.status_code == 200 and health.json()["accepted"] == 50
        fake_clock.advance(1 / 50)  # one token's worth of time later
        assert (await client.post(SEND, json=text())).status_code == 200
        for _ in range(3):  # keep going far past the ledger's memory size: it spills, memory stays bounded
            fake_clock.advance(1.0)
            await asyncio.gather(*(client.post(SEND, json=text()) for _ in range(60)))
        state = app.state.mock
        state.ledger.wait_spilled()
        assert len(state.ledger) == 51 + 150 and state.ledger.memory_size < 100


@pytest.mark.slow
def test_a_slowed_real_mock_sheds_past_max_in_flight_and_keeps_its_control_plane(tmp_path: Path) -> None:
    config = MockConfig(max_in_flight=4, limits=LimitsConfig(enabled=False))
    server = start_mock_server(config, tmp_path)
    base = server.base_url
    latency_ms = 1_000  # holds the admitted sends long enough for the control plane to be asked mid-burst
    try:
        fault = httpx.post(f"{base}/_mock/faults", json={"kind": "latency", "ms": latency_ms}, headers=ADMIN).json()

        async def burst() -> tuple[list[httpx.Response], dict[str, int], bool]:
            limits = httpx.Limits(max_connections=40)
            async with (
                httpx.AsyncClient(base_url=base, headers=GRAPH, limits=limits, timeout=30) as client,
                httpx.AsyncClient(base_url=base, headers=ADMIN, timeout=5) as admin,
            ):
                sends = [client.post(SEND, json=template(to=f"4915{i:08d}")) for i in range(40)]
                answers = asyncio.ensure_future(asyncio.gather(*sends))
                # Poll the control plane (its own client, not queued behind the sends) until the mock is at its
                # in-flight limit: it has shed a send. Bounded in count and time.
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 10.0
                control: dict[str, int] = {}
                for _ in range(500):
                    answer = await admin.get("/_mock/stats")
                    assert answer.status_code == 200
                    control = answer.json()
                    if control["shed"] > 0 or loop.time() > deadline:
                        break
                    await asyncio.sleep(0.02)
                mid_burst = not answers.done()  # the admitted sends were still held when the control plane answered
                return await answers, control, mid_burst

        answers, control, mid_burst = asyncio.run(burst())
        statuses = [answer.status_code for answer in answers]
        shed = [answer for answer in answers if answer.status_code == 503]
        assert control["shed"] > 0, "the mock never reached its in-flight limit within 10 s"
        assert mid_burst, "the control plane answered only after the burst"
        assert statuses.count(200) >= 4 and shed, statuses
        assert set(statuses) <= {200, 503}
        assert all(error_of(answer)["code"] == 133004 and answer.headers["retry-after"] == "1" for answer in shed)
        httpx.delete(f"{base}/_mock/faults/{fault['id']}", headers=ADMIN)
        after = httpx.post(f"{base}{SEND}", json=template(to="4915999999999"), headers=GRAPH)
        assert after.status_code == 200
        stats = httpx.get(f"{base}/_mock/stats", headers=ADMIN).json()
        assert stats["shed"] == len(shed)
    finally:
        server.process.stop()
