"""A large batch of customer messages is composed in chunks: other routes answer while it is being composed."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ground.clock import SystemClock
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import MockConfig
from tests.fixtures.webhook_receiver import WebhookReceiver
from tests.mocks.whatsapp.webhooks.test_integration import ADMIN, FAST_LADDER, GRAPH, PNID, subscribe

COUNT = 3000


@pytest.mark.anyio
async def test_graph_and_control_plane_answer_while_a_batch_is_composed(webhook_receiver: WebhookReceiver) -> None:
    app = create_app(MockConfig(webhooks={"ladder": {**FAST_LADDER, "enabled": False}}), clock=SystemClock())
    state = app.state.mock
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.test", headers=ADMIN) as client:
            await subscribe(client, webhook_receiver)
            batch = asyncio.create_task(client.post("/_mock/customers/messages", json={"generate": {"count": COUNT}}))
            for _ in range(100_000):  # bounded: until the batch task has composed its first messages
                if len(state.ledger) > 0 or batch.done():
                    break
                await asyncio.sleep(0)
            composed_before = len(state.ledger)
            health = await client.get("/_mock/health")
            number = await client.get(f"/v22.0/{PNID}", headers=GRAPH)
            composed_after, batch_done = len(state.ledger), batch.done()
            assert health.status_code == 200 and number.status_code == 200, (health.text, number.text)
            # Both requests were served between two chunks of the batch, not after all of it.
            assert 0 < composed_before < COUNT and composed_after < COUNT and not batch_done
            answer = await batch
            assert answer.status_code == 202 and len(answer.json()["ids"]) == COUNT
            assert len(state.ledger) == COUNT
