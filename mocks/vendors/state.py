"""Everything one vendor instance holds, hung off ``app.state.vendor`` (no module globals)."""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from typing import Any

import httpx

from ground.clock import Clock
from mocks.vendors.desk import Assignment, Desk
from mocks.vendors.graph import FROM_KEY, GraphClient
from mocks.vendors.outbound import Outbound
from mocks.vendors.routing import Assigner, AutoReplies
from mocks.vendors.settings import VendorSettings
from mocks.vendors.storage import Store


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


class VendorState:
    def __init__(
        self, settings: VendorSettings, clock: Clock, graph_transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.store = Store(settings.db_path)
        self.graph = GraphClient(settings, graph_transport)
        self.outbound = Outbound(settings, self.store, self.graph, clock)
        self.auto_replies = AutoReplies(settings.auto_replies, settings.fallback_reply)
        self.assigner = Assigner(settings.agents, settings.assignment, self.store)
        self.desk = Desk(
            strategy=settings.assignment,
            agent_cap=settings.agent_cap,
            seats=settings.seats,
            handle_s=settings.handle_s,
            seed=settings.seed,
        )
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.media_uploads: deque[float] = deque()  # monotonic times of recent uploads (flaky-media window)
        self.webhook_counts = {"accepted": 0, "rejected_signature": 0, "too_large": 0, "malformed": 0, "replayed": 0}
        self.promoted = settings.role != "standby"
        self.tasks: list[asyncio.Task[None]] = []

    def queue_message(
        self,
        wa_id: str,
        kind: str,
        body: str,
        payload: dict[str, Any],
        broadcast_id: str | None = None,
        *,
        from_id: str | None = None,
    ) -> str:
        """Store an outbound message and queue it in one transaction; the id the API answers with.

        ``from_id``: the phone-number id to send from (None: the vendor's own ``phone_number_id``); kept with the
        payload under ``FROM_KEY``, which the outbound worker takes off before the Graph call."""
        message_id = new_id("msg")
        # A phone number goes in "to"; a business-scoped user id (e.g. "BR.1502…") in "recipient" (reference §9).
        address = {"to": wa_id} if wa_id.isdigit() else {"recipient": wa_id}
        graph_payload = {"messaging_product": "whatsapp", "recipient_type": "individual", **address, **payload}
        if from_id:
            graph_payload[FROM_KEY] = from_id
        with self.store.tx() as conn:
            self.store.insert_outbound(
                conn,
                message_id=message_id,
                wa_id=wa_id,
                kind=kind,
                body=body,
                payload=graph_payload,
                at=self.clock.now(),
                broadcast_id=broadcast_id,
            )
            self.outbound.accept(message_id, conn)
        return message_id

    def apply_assignments(self, made: list[Assignment]) -> None:
        """Write the desk's assignments to the store and start their handle-time holds (when the desk has them)."""
        for assignment in made:
            self.store.assign(assignment.conversation_id, assignment.agent)
            if assignment.release_at is not None:
                delay = max(0.0, assignment.release_at - self.clock.now())
                asyncio.get_running_loop().call_later(delay, self._hold_ended, assignment.conversation_id)

    def _hold_ended(self, conversation_id: int) -> None:
        self.apply_assignments(self.desk.release_hold(conversation_id, self.clock.now()))

    def media_allowed(self) -> bool:
        """The flaky-media defect: 503 once more than N uploads happened within the sliding window."""
        limit = self.settings.media_fail_after
        if limit is None:
            return True
        now = self.clock.monotonic()
        while self.media_uploads and self.media_uploads[0] <= now - self.settings.media_window_s:
            self.media_uploads.popleft()
        if len(self.media_uploads) >= limit:
            return False
        self.media_uploads.append(now)
        return True

    def start(self) -> None:
        if self.promoted:
            self.outbound.start()

    def promote(self) -> None:
        """A standby becomes active: it starts its workers and takes over the shared outbox."""
        self.promoted = True
        self.outbound.start()

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.outbound.stop()
        await self.graph.aclose()
        self.store.close()
