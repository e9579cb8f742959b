"""Per-attempt records of webhook POSTs, in ``WEBHOOK_ATTEMPT_SCHEMA`` (harness/records.py).

Rows are kept in memory as tuples (cheap to append at thousands per second) and turned into Arrow or NDJSON
only when the control plane exports them. The log is bounded: past ``max_rows`` the oldest tenth is dropped and
counted, so a week-long soak cannot exhaust memory.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson
import pyarrow as pa

from harness.records import WEBHOOK_ATTEMPT_COLUMNS, WEBHOOK_ATTEMPT_SCHEMA


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

    def append(self, row: Attempt) -> None:
        self.rows.append(row)
        if len(self.rows) > self.max_rows:
            cut = max(self.max_rows // 10, 1)
            del self.rows[:cut]
            self.evicted += cut

    def clear(self) -> None:
        self.rows.clear()
        self.evicted = 0

    def since(self, since: float | None = None) -> list[Attempt]:
        if since is None:
            return list(self.rows)
        # Rows are appended when an attempt ends, not when it starts, so they are not sorted by sent_at.
        return [row for row in self.rows if row.sent_at >= since]

    def to_table(self, since: float | None = None) -> pa.Table:
        rows = self.since(since)
        columns = {name: [row[i] for row in rows] for i, name in enumerate(WEBHOOK_ATTEMPT_COLUMNS)}
        return pa.Table.from_pydict(columns, schema=WEBHOOK_ATTEMPT_SCHEMA)

    def to_ndjson(self, since: float | None = None) -> bytes:
        return b"".join(orjson.dumps(row._asdict()) + b"\n" for row in self.since(since))

    def as_dicts(self, since: float | None = None) -> list[dict[str, Any]]:
        return [row._asdict() for row in self.since(since)]
