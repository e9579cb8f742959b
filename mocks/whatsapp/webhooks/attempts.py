"""Per-attempt records of webhook POSTs, in ``WEBHOOK_ATTEMPT_SCHEMA`` (harness/records.py).

Rows are appended in memory as tuples (cheap at thousands per second). Past ``memory_rows`` they are written to
Parquet segments on disk by a background thread (``segments.SegmentSpill``, as the ledger does), in the mock's
spill folder (``ledger.spill_dir``, else a temporary folder removed at shutdown), and every export (Parquet or
NDJSON) reads the segments and memory together in arrival order: no attempt record is lost, however long the run.

``max_rows`` stays a hard cap on the rows held in memory. Only when spilling is off (``memory_rows`` None, i.e.
``webhooks.attempts_spill: false``) or the folder cannot be written does memory reach it; then the oldest tenth is
dropped and counted. Dropped rows are never silent: ``evicted`` and ``evicted_until`` (the newest ``sent_at``
among them) are in ``/_mock/stats``, ``/_mock/webhooks/stats``, the Parquet export's schema metadata
(``EVICTED_KEY``, ``EVICTED_UNTIL_KEY``) and the NDJSON export's headers (``EVICTED_HEADER``,
``EVICTED_UNTIL_HEADER``), so an analysis can say its acknowledgement figures cover only attempts sent after
``evicted_until``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ground.records import WEBHOOK_ATTEMPT_COLUMNS, WEBHOOK_ATTEMPT_SCHEMA
from mocks.whatsapp.segments import SegmentSpill

EVICTED_KEY = b"scrmbench.attempts_evicted"
EVICTED_UNTIL_KEY = b"scrmbench.attempts_evicted_until"  # empty when nothing was evicted
EVICTED_HEADER = "x-mock-attempts-evicted"
EVICTED_UNTIL_HEADER = "x-mock-attempts-evicted-until"

log = logging.getLogger("mocks.whatsapp.webhooks")


class Attempt(NamedTuple):
    sent_at: float
    delivery_id: str
    kind: str
    wamids: str
    attempt: int
    callback_url: str
    http_status: int
    response_ms: float | None
    outcome: str  # ok | http_error | timeout | connect_error
    error: str
    statuses: str | None = None  # status POSTs: each wamid's status, in the order of ``wamids``


def _table(rows: list[Attempt]) -> pa.Table:
    columns = {name: [row[i] for row in rows] for i, name in enumerate(WEBHOOK_ATTEMPT_COLUMNS)}
    return pa.Table.from_pydict(columns, schema=WEBHOOK_ATTEMPT_SCHEMA)


def _newest(rows: list[Attempt]) -> float:
    # Rows are appended when an attempt ends, not when it starts, so they are not sorted by sent_at.
    return max(row.sent_at for row in rows)


class AttemptLog:
    def __init__(
        self, max_rows: int = 5_000_000, *, memory_rows: int | None = None, spill_dir: str | Path | None = None
    ) -> None:
        """``memory_rows``: spill to Parquet segments past this many rows (None: never spill, evict past
        ``max_rows``); ``spill_dir``: where (None: a temporary folder, removed by ``close``)."""
        self.max_rows = max_rows
        self.memory_rows = None if memory_rows is None else min(memory_rows, max_rows)  # max_rows is a hard cap
        self.rows: list[Attempt] = []  # the rows in memory (the newest ones)
        self._spill: SegmentSpill[Attempt] | None = None
        if memory_rows is not None:
            self._spill = SegmentSpill(prefix="attempts", spill_dir=spill_dir, to_table=_table, newest=_newest)
        self.spill_error: str | None = None  # why spilling stopped (then rows past max_rows are evicted)
        self.evicted = 0
        self.evicted_until: float | None = None  # newest sent_at of an evicted row

    def append(self, row: Attempt) -> None:
        self.rows.append(row)
        if self._spill is not None and self.memory_rows is not None and len(self.rows) >= self.memory_rows:
            self._hand_off(self._spill)
        while len(self.rows) > self.max_rows:
            cut = max(self.max_rows // 10, len(self.rows) - self.max_rows)
            newest = max(old.sent_at for old in self.rows[:cut])
            self.evicted_until = newest if self.evicted_until is None else max(self.evicted_until, newest)
            del self.rows[:cut]
            self.evicted += cut

    def _hand_off(self, spill: SegmentSpill[Attempt]) -> None:
        spill.wait()
        if spill.failed is None:
            try:
                spill.hand_off(self.rows)
            except OSError as exc:
                self._stop_spilling(spill, f"{type(exc).__name__}: {exc}")
                return
            self.rows = []
            return
        self._stop_spilling(spill, spill.failed)

    def _stop_spilling(self, spill: SegmentSpill[Attempt], why: str) -> None:
        """The spill folder cannot be written: keep what is on disk, hold the rest in memory up to ``max_rows``."""
        self.rows = [*spill.take_unwritten(), *self.rows]
        self.memory_rows = None
        self.spill_error = why[:300]
        log.warning(
            "webhook attempt records cannot spill to disk (%s); past %s in memory the oldest are dropped and counted",
            self.spill_error,
            self.max_rows,
        )

    def spill(self, *, wait: bool = False) -> None:
        """Write the rows in memory to a segment now (``close`` with a configured folder; tests)."""
        if self._spill is not None and self.memory_rows is not None and self.rows:
            self._hand_off(self._spill)
            if wait:
                self._spill.wait()

    def __len__(self) -> int:
        """Attempt records kept: on disk, being written and in memory (evicted ones not counted)."""
        return (self._spill.size if self._spill is not None else 0) + len(self.rows)

    @property
    def spilled(self) -> int:
        return self._spill.rows if self._spill is not None else 0

    def clear(self) -> None:
        if self._spill is not None:
            self._spill.reset()
        self.rows = []
        self.evicted = 0
        self.evicted_until = None

    def close(self) -> None:
        """At shutdown: a temporary folder is removed; a configured one keeps every record as segments."""
        if self._spill is None:
            return
        if not self._spill.owns_dir:
            self.spill(wait=True)
        self._spill.close()

    def metadata(self) -> dict[bytes, bytes]:
        until = "" if self.evicted_until is None else repr(self.evicted_until)
        return {EVICTED_KEY: str(self.evicted).encode(), EVICTED_UNTIL_KEY: until.encode()}

    def _parts(self, since: float | None) -> tuple[list[Path], list[Attempt]]:
        """Segment files that may hold rows sent at or after ``since``, and the rows not in a segment."""
        segments, writing = self._spill.snapshot() if self._spill is not None else ([], [])
        paths = [path for path, newest in segments if since is None or newest >= since]
        pending = [*writing, *self.rows]
        if since is not None:
            pending = [row for row in pending if row.sent_at >= since]
        return paths, pending

    def since(self, since: float | None = None) -> Iterator[Attempt]:
        """Every kept record (segments first, then memory), in arrival order; segments are read in batches."""
        paths, pending = self._parts(since)
        for path in paths:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
                columns = batch.to_pydict()
                for values in zip(*(columns[name] for name in WEBHOOK_ATTEMPT_COLUMNS), strict=True):
                    row = Attempt(*values)
                    if since is None or row.sent_at >= since:
                        yield row
        yield from pending

    def to_table(self, since: float | None = None) -> pa.Table:
        paths, pending = self._parts(since)
        tables = [pq.read_table(path, schema=WEBHOOK_ATTEMPT_SCHEMA) for path in paths]
        if since is not None and tables:
            tables = [table.filter(pc.greater_equal(table["sent_at"], since)) for table in tables]
        tables.append(_table(pending))
        table = pa.concat_tables([table.replace_schema_metadata(None) for table in tables])
        return table.replace_schema_metadata({**(table.schema.metadata or {}), **self.metadata()})

    def to_ndjson(self, since: float | None = None) -> bytes:
        return b"".join(orjson.dumps(row._asdict()) + b"\n" for row in self.since(since))

    def as_dicts(self, since: float | None = None) -> list[dict[str, Any]]:
        return [row._asdict() for row in self.since(since)]


def merged_eviction(metadatas: Iterable[dict[bytes, bytes] | None]) -> dict[bytes, bytes]:
    """Eviction metadata of several shards' exports as one: counts summed, the latest ``evicted_until``."""
    evicted, until = 0, None
    for metadata in metadatas:
        metadata = metadata or {}
        evicted += int(metadata.get(EVICTED_KEY, b"0") or 0)
        raw = metadata.get(EVICTED_UNTIL_KEY, b"")
        if raw:
            until = float(raw) if until is None else max(until, float(raw))
    return {EVICTED_KEY: str(evicted).encode(), EVICTED_UNTIL_KEY: b"" if until is None else repr(until).encode()}
