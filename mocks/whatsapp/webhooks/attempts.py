"""Per-attempt records of webhook POSTs, in ``WEBHOOK_ATTEMPT_SCHEMA`` (harness/records.py).

Rows are kept in memory as tuples (cheap to append at thousands per second) and turned into Arrow or NDJSON
only when the control plane exports them. The log is bounded: past ``max_rows`` the oldest tenth is dropped and
counted, so a week-long soak cannot exhaust memory. Dropped rows are never silent: ``evicted`` and
``evicted_until`` (the newest ``sent_at`` among them) are in ``/_mock/stats``, ``/_mock/webhooks/stats``, the
Parquet export's schema metadata (``EVICTED_KEY``, ``EVICTED_UNTIL_KEY``) and the NDJSON export's headers
(``EVICTED_HEADER``, ``EVICTED_UNTIL_HEADER``), so an analysis can say its acknowledgement figures cover only
attempts sent after ``evicted_until``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson
import pyarrow as pa

from harness.records import WEBHOOK_ATTEMPT_COLUMNS, WEBHOOK_ATTEMPT_SCHEMA

EVICTED_KEY = b"scrmbench.attempts_evicted"
EVICTED_UNTIL_KEY = b"scrmbench.attempts_evicted_until"  # empty when nothing was evicted
EVICTED_HEADER = "x-mock-attempts-evicted"
EVICTED_UNTIL_HEADER = "x-mock-attempts-evicted-until"


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


class AttemptLog:
    def __init__(self, max_rows: int = 5_000_000) -> None:
        self.max_rows = max_rows
        self.rows: list[Attempt] = []
        self.evicted = 0
        self.evicted_until: float | None = None  # newest sent_at of an evicted row

    def append(self, row: Attempt) -> None:
        self.rows.append(row)
        if len(self.rows) > self.max_rows:
            cut = max(self.max_rows // 10, 1)
            newest = max(old.sent_at for old in self.rows[:cut])
            self.evicted_until = newest if self.evicted_until is None else max(self.evicted_until, newest)
            del self.rows[:cut]
            self.evicted += cut

    def clear(self) -> None:
        self.rows.clear()
        self.evicted = 0
        self.evicted_until = None

    def metadata(self) -> dict[bytes, bytes]:
        until = "" if self.evicted_until is None else repr(self.evicted_until)
        return {EVICTED_KEY: str(self.evicted).encode(), EVICTED_UNTIL_KEY: until.encode()}

    def since(self, since: float | None = None) -> list[Attempt]:
        if since is None:
            return list(self.rows)
        # Rows are appended when an attempt ends, not when it starts, so they are not sorted by sent_at.
        return [row for row in self.rows if row.sent_at >= since]

    def to_table(self, since: float | None = None) -> pa.Table:
        rows = self.since(since)
        columns = {name: [row[i] for row in rows] for i, name in enumerate(WEBHOOK_ATTEMPT_COLUMNS)}
        table = pa.Table.from_pydict(columns, schema=WEBHOOK_ATTEMPT_SCHEMA)
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
