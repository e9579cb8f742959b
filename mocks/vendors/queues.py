"""The outbound job queue, in two kinds: in memory (lost with the process) and durable (a SQLite outbox).

The kind is the difference between the `degrading`/`lossy`/`slow-failover` vendors, which lose what was
queued when they die, and the `steady`/`fast-failover` ones, which do not: a durable job is claimed with a
lease, so if the process holding it dies, another instance sharing the database takes it after the lease.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from ground.clock import Clock
from mocks.vendors.storage import Store


@dataclass
class Job:
    message_id: str
    attempts: int = 0
    ref: int | None = None  # the outbox row of a durable job


class JobQueue(Protocol):
    def put(self, message_id: str) -> None: ...

    async def get(self) -> Job: ...

    def ack(self, job: Job) -> None: ...

    def retry(self, job: Job, delay_s: float) -> None: ...

    def depth(self) -> int: ...


class MemoryQueue:
    """An unbounded asyncio queue: the cheap design whose backlog grows without limit under overload."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Job] = asyncio.Queue()

    def put(self, message_id: str) -> None:
        self._queue.put_nowait(Job(message_id))

    async def get(self) -> Job:
        return await self._queue.get()

    def ack(self, job: Job) -> None:
        return None

    def retry(self, job: Job, delay_s: float) -> None:
        job.attempts += 1
        asyncio.get_running_loop().call_later(delay_s, self._queue.put_nowait, job)

    def depth(self) -> int:
        return self._queue.qsize()


class DurableQueue:
    """The SQLite outbox. ``put`` commits before the API answers 202, so an acknowledged job survives a crash."""

    # An idle worker looks for jobs put by another instance, due retries and expired leases every POLL_S,
    # backing off to IDLE_POLL_S while nothing comes (a local put wakes it at once either way).
    POLL_S = 0.02
    IDLE_POLL_S = 0.25

    def __init__(self, store: Store, clock: Clock, owner: str, lease_s: float) -> None:
        self.store = store
        self.clock = clock
        self.owner = owner
        self.lease_s = lease_s
        self._wakeup = asyncio.Event()

    def put(self, message_id: str) -> None:
        with self.store.tx() as conn:
            self.put_in(conn, message_id)

    def put_in(self, conn: object, message_id: str) -> None:
        """Insert within the caller's transaction (the message row and its job commit together)."""
        conn.execute(  # type: ignore[attr-defined]
            "INSERT INTO outbox(message_id, available_at) VALUES (?, ?)", (message_id, self.clock.now())
        )
        self._wakeup.set()

    def _claim(self) -> Job | None:
        now = self.clock.now()
        # A cheap read first: idle workers poll, and a write transaction per poll would contend with the API.
        ready = self.store.query(
            "SELECT 1 FROM outbox WHERE available_at <= ? AND (claimed_until IS NULL OR claimed_until < ?) LIMIT 1",
            (now, now),
        )
        if not ready:
            return None
        with self.store.tx() as conn:
            row = conn.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE seq = ("
                " SELECT seq FROM outbox WHERE available_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)"
                " ORDER BY seq LIMIT 1) RETURNING seq, message_id, attempts",
                (self.owner, now + self.lease_s, now, now),
            ).fetchone()
        if row is None:
            return None
        return Job(str(row["message_id"]), int(row["attempts"]), int(row["seq"]))

    async def get(self) -> Job:
        poll = self.POLL_S
        while True:
            job = self._claim()
            if job is not None:
                return job
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), poll)
                poll = self.POLL_S
            except TimeoutError:
                poll = min(poll * 2, self.IDLE_POLL_S)

    def release_own_claims(self) -> None:
        """At start: claims under this owner's name were made by a previous life of this instance, now dead."""
        with self.store.tx() as conn:
            conn.execute(
                "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ?", (self.owner,)
            )

    async def keep_leases(self) -> None:
        """Renew this instance's leases while it lives: a slow Graph call must not let another worker (or the
        standby) claim a job in flight and send it twice; only a dead instance's leases run out."""
        while True:
            await self.clock.sleep(self.lease_s / 3)
            with self.store.tx() as conn:
                conn.execute(
                    "UPDATE outbox SET claimed_until = ? WHERE claimed_by = ?",
                    (self.clock.now() + self.lease_s, self.owner),
                )

    def ack(self, job: Job) -> None:
        with self.store.tx() as conn:
            conn.execute("DELETE FROM outbox WHERE seq = ?", (job.ref,))

    def retry(self, job: Job, delay_s: float) -> None:
        job.attempts += 1
        with self.store.tx() as conn:
            conn.execute(
                "UPDATE outbox SET available_at = ?, claimed_by = NULL, claimed_until = NULL, attempts = ?"
                " WHERE seq = ?",
                (self.clock.now() + delay_s, job.attempts, job.ref),
            )

    def depth(self) -> int:
        return int(self.store.query("SELECT COUNT(*) AS n FROM outbox")[0]["n"])
