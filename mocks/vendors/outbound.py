"""The outbound pipeline: accepted messages → queue → a bounded pool of workers → Graph API.

Each worker takes a job, pays the profile's per-job service cost (the downstream CRM call every message
makes) on a fixed schedule (``ServiceSchedule``: one job per ``service_ms`` slot, so capacity is exactly
``workers / service_ms``), waits for the per-number pacer, and sends. Throttling and server errors are retried
with exponential backoff, so a throttle delays messages instead of losing them, unless the profile turns retry
off; a message that fails for good is listed (``failed_ids``) next to the lossy profile's drops.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque

from ground.clock import Clock
from mocks.vendors.graph import FROM_KEY, GraphClient, GraphError
from mocks.vendors.queues import DurableQueue, Job, JobQueue, MemoryQueue
from mocks.vendors.ratelimit import NumberLimiter
from mocks.vendors.settings import VendorSettings
from mocks.vendors.storage import Store

log = logging.getLogger(__name__)

DROPPED_KEPT = 100_000  # drops (and failures) listed by /_vendor/stats; more than any test or demo run produces


class ServiceSchedule:
    """One worker's fixed service schedule: one job per ``period_s`` slot, back to back while there is work.

    A job's slot starts where the worker's previous slot ended, unless the worker is a whole slot or more past
    that (it was idle, or a Graph call overran), in which case it starts now; the job is sent at the slot's
    end. The Graph round trip of one job therefore overlaps the next job's slot, and a worker with a backlog
    sends exactly one job per period as long as a round trip (plus pacing) fits in a period: the capacity of
    ``n`` workers is exactly ``n / period_s``, whatever the Graph latency below that. A send that ends more than
    a period after its slot is an overrun (counted): the next slot starts afresh when the worker is free (a slot
    plus the round trip between sends, no catching up), so capacity can only be lower, never higher.
    A job taken by a worker idle for less than a slot is sent at the end of the slot after its previous one,
    so below capacity a job waits at most one period before its send.
    """

    def __init__(self, period_s: float) -> None:
        self.period = period_s
        self.slot_end: float | None = None
        self.overruns = 0

    def next_slot_end(self, now: float) -> float:
        """The end of the slot of a job taken at ``now`` (monotonic seconds): when to send it."""
        if self.slot_end is not None and now < self.slot_end + self.period:
            start = self.slot_end
        else:
            start = now
        self.slot_end = start + self.period
        return self.slot_end

    def sent(self, now: float) -> None:
        """The job's send ended at ``now``: past the next slot's end, the schedule slipped."""
        if self.slot_end is not None and now > self.slot_end + self.period:
            self.overruns += 1


class Outbound:
    def __init__(self, settings: VendorSettings, store: Store, graph: GraphClient, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.graph = graph
        self.clock = clock
        self.queue: JobQueue = (
            DurableQueue(store, clock, settings.instance, settings.lease_s) if settings.durable_queue else MemoryQueue()
        )
        self.limiter = NumberLimiter(settings.send_rate_per_s, settings.send_burst, clock)
        self.random = random.Random(settings.seed)
        self.dropped: deque[str] = deque(maxlen=DROPPED_KEPT)
        self.failed: deque[str] = deque(maxlen=DROPPED_KEPT)
        self.schedules: list[ServiceSchedule] = []
        self.counts = {"accepted": 0, "sent": 0, "failed": 0, "dropped": 0, "retried": 0}
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def start(self) -> None:
        if not self._tasks:
            self.schedules = [ServiceSchedule(self.settings.service_ms / 1000.0) for _ in range(self.settings.workers)]
            self._tasks = [
                asyncio.create_task(self._worker(index), name=f"outbound-{index}")
                for index in range(self.settings.workers)
            ]
            if isinstance(self.queue, DurableQueue):
                self.queue.release_own_claims()
                self._tasks.append(asyncio.create_task(self.queue.keep_leases(), name="outbox-leases"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def accept(self, message_id: str, conn: object | None = None) -> None:
        """Queue one stored message. ``conn`` is the open transaction that stored it (durable queue only)."""
        self.counts["accepted"] += 1
        settings = self.settings
        if (
            settings.loss_fraction > 0
            and self.queue.depth() >= settings.loss_queue_threshold
            and self.random.random() < settings.loss_fraction
        ):
            # The lossy vendor's defect: under pressure it acknowledges and silently discards.
            self.dropped.append(message_id)
            self.counts["dropped"] += 1
            return
        if conn is not None and isinstance(self.queue, DurableQueue):
            self.queue.put_in(conn, message_id)
        else:
            self.queue.put(message_id)

    async def _worker(self, index: int) -> None:
        schedule = self.schedules[index]
        while True:
            job = await self.queue.get()
            try:
                await self._process(job, schedule)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad job must not kill the worker
                log.exception("outbound worker %d failed on %s", index, job.message_id)

    async def _process(self, job: Job, schedule: ServiceSchedule | None = None) -> None:
        payload = self.store.message_payload(job.message_id)
        if payload is None:
            self.queue.ack(job)
            return
        if self.settings.service_ms:
            schedule = schedule or ServiceSchedule(self.settings.service_ms / 1000.0)
            await self.clock.sleep(schedule.next_slot_end(self.clock.monotonic()) - self.clock.monotonic())
        # Paced per number, as WhatsApp paces them: a multi-number load waits on each number's own bucket.
        number = str(payload.pop(FROM_KEY, None) or self.settings.phone_number_id)
        await self.limiter.acquire(number)
        try:
            wamid = await self.graph.send_message(payload, number)
        except GraphError as exc:
            self._settle_failure(job, exc)
            return
        finally:
            if schedule is not None:
                schedule.sent(self.clock.monotonic())
        self.store.mark_sent(job.message_id, wamid, self.clock.now(), job.attempts + 1)
        self.counts["sent"] += 1
        self.queue.ack(job)

    def _settle_failure(self, job: Job, exc: GraphError) -> None:
        retry = self.settings.retry
        if exc.retryable and retry.enabled and job.attempts + 1 < retry.max_attempts:
            self.counts["retried"] += 1
            self.queue.retry(job, retry.delay(job.attempts))
            return
        # Not retried (a permanent error, retry off, or attempts used up): acknowledged yet never delivered.
        self.counts["failed"] += 1
        self.failed.append(job.message_id)
        self.store.mark_failed(job.message_id, str(exc)[:500], job.attempts + 1)
        self.queue.ack(job)

    def stats(self) -> dict[str, object]:
        return {
            **self.counts,
            "queue_depth": self.queue.depth(),
            "durable": isinstance(self.queue, DurableQueue),
            "workers_running": len(self._tasks),
            "slot_overruns": sum(schedule.overruns for schedule in self.schedules),
            "dropped_ids": list(self.dropped),
            "failed_ids": list(self.failed),
        }


__all__ = ["MemoryQueue", "Outbound", "ServiceSchedule"]
