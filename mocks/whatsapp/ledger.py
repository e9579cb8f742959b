"""The ledger: every message the mock accepted, as rows of ``harness.records.LEDGER_SCHEMA``.

Rows live in memory up to ``memory_rows``; past that the oldest rows are written to a Parquet segment on disk and
dropped from memory, so a long soak keeps memory bounded. The write happens in a background thread (converting
200k rows and writing Parquet takes about half a second, which on the event loop would be a latency spike in the
middle of a trial); rows being written stay visible to exports until their segment is on disk. Export
(``records_since``/``table_since``) reads segments and memory together, in arrival order, while the mock runs.

Some columns are filled after a row was appended (``inbound_delivered_at`` once the inbound webhook was
acknowledged, and on the replies waiting for it). Such changes go through ``Ledger.update``: a row still in memory
is changed in place; a row already handed to the spill gets an entry in a side table of patches (wamid -> columns)
that every export merges over the Parquet segments, so a spill never freezes a row with its link columns null.
"""

from __future__ import annotations

import operator
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from harness.records import LEDGER_COLUMNS, LEDGER_SCHEMA

_ROW = operator.attrgetter(*LEDGER_COLUMNS)


@dataclass(slots=True)
class LedgerEntry:
    """One accepted message. The fields up to ``biz_opaque_callback_data`` are LEDGER_SCHEMA's columns in order;
    the rest are for the webhook engine (which listens through ``MockState.on_accepted``) and are not exported."""

    arrived_at: float
    arrived_monotonic: float
    wamid: str
    direction: str
    phone_number_id: str
    recipient: str
    type: str
    size_bytes: int
    correlation_id: str | None = None
    context_message_id: str | None = None
    reply_to_wamid: str | None = None
    inbound_delivered_at: float | None = None
    biz_opaque_callback_data: str | None = None
    # Not exported:
    wa_id: str = ""  # the customer's phone number, also when the send used a BSUID
    user_id: str = ""  # the customer's BSUID
    waba_id: str = ""
    category: str = "service"  # marketing | utility | authentication | service (pricing in status webhooks)
    async_error_code: int | None = None  # accepted now, to fail later with this code (e.g. 131026)
    extra: dict[str, Any] = field(default_factory=dict)
    seq: int = -1  # position in the ledger, set by ``Ledger.append`` (-1: not appended yet)

    def row(self) -> tuple[Any, ...]:
        return tuple(_ROW(self))

    def as_record(self) -> dict[str, Any]:
        return dict(zip(LEDGER_COLUMNS, self.row(), strict=True))


def _table(rows: list[tuple[Any, ...]]) -> pa.Table:
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in LEDGER_COLUMNS]
    return pa.Table.from_arrays(
        [pa.array(column, type=LEDGER_SCHEMA.field(i).type) for i, column in enumerate(columns)],
        schema=LEDGER_SCHEMA,
    )


def _patched(table: pa.Table, patches: dict[str, dict[str, Any]]) -> pa.Table:
    """``table`` with the patched columns of the rows named in ``patches`` replaced (vectorised per column)."""
    if not patches or table.num_rows == 0:
        return table
    names = sorted({name for columns in patches.values() for name in columns})
    for name in names:
        keyed = [(wamid, columns[name]) for wamid, columns in patches.items() if name in columns]
        keys = pa.array([wamid for wamid, _ in keyed], type=pa.string())
        values = pa.array([value for _, value in keyed], type=LEDGER_SCHEMA.field(name).type)
        index = pc.index_in(table["wamid"], value_set=keys)
        column = pc.if_else(pc.is_valid(index), pc.take(values, index), table[name])
        table = table.set_column(table.schema.get_field_index(name), LEDGER_SCHEMA.field(name), column)
    return table


class Ledger:
    def __init__(self, memory_rows: int = 200_000, spill_dir: str | None = None) -> None:
        self.memory_rows = memory_rows
        self._owns_dir = spill_dir is None
        self._dir = Path(spill_dir) if spill_dir else None
        self._memory: list[LedgerEntry] = []
        self._segments: list[tuple[Path, float]] = []  # (file, newest arrived_at in it)
        self._spilled_rows = 0
        self._writing: list[LedgerEntry] = []  # rows handed to the spill thread, not yet in a segment
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()
        self._appended = 0  # rows ever appended; the next row's ``seq``
        self._handed_off = 0  # rows with ``seq`` below this are in a segment or being written to one
        self._patches: dict[str, dict[str, Any]] = {}  # wamid -> columns changed after its row was spilled
        # Segment names carry the start time and pid, so a reused spill_dir never mixes two runs' files.
        self._stem = f"ledger-{int(time.time())}-{os.getpid()}"

    def append(self, entry: LedgerEntry) -> None:
        entry.seq = self._appended
        self._appended += 1
        self._memory.append(entry)
        if len(self._memory) >= self.memory_rows:
            self.spill()

    def spill(self, *, wait: bool = False) -> None:
        """Hand the in-memory rows to a background writer that puts them in a new Parquet segment."""
        self.wait_spilled()
        if not self._memory:
            return
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="scrmbench-ledger-"))
        self._dir.mkdir(parents=True, exist_ok=True)
        path = self._dir / f"{self._stem}-{len(self._segments):06d}.parquet"
        self._writing, self._memory = self._memory, []
        self._handed_off = self._appended
        self._writer = threading.Thread(target=self._write, args=(path, self._writing), daemon=True)
        self._writer.start()
        if wait:
            self.wait_spilled()

    def update(self, entry: LedgerEntry, **columns: Any) -> None:
        """Change exported columns of a row after it was appended (reply links); survives a spill (see above)."""
        for name, value in columns.items():
            setattr(entry, name, value)
        if 0 <= entry.seq < self._handed_off:  # the writer thread may already have converted it: patch it
            with self._lock:
                self._patches.setdefault(entry.wamid, {}).update(columns)

    @property
    def patched_rows(self) -> int:
        return len(self._patches)

    def _write(self, path: Path, rows: list[LedgerEntry]) -> None:
        pq.write_table(_table([entry.row() for entry in rows]), path)
        with self._lock:
            self._segments.append((path, rows[-1].arrived_at))
            self._spilled_rows += len(rows)
            self._writing = []

    def wait_spilled(self) -> None:
        if self._writer is not None:
            self._writer.join()
            self._writer = None

    def _snapshot(self) -> tuple[list[tuple[Path, float]], list[LedgerEntry], dict[str, dict[str, Any]]]:
        """Segments on disk, the rows not yet in one (being written, then in memory) and the patches, consistently."""
        with self._lock:
            patches = {wamid: dict(columns) for wamid, columns in self._patches.items()}
            return list(self._segments), [*self._writing, *self._memory], patches

    def __len__(self) -> int:
        with self._lock:
            return self._spilled_rows + len(self._writing) + len(self._memory)

    @property
    def memory_size(self) -> int:
        return len(self._memory)

    def entries(self) -> list[LedgerEntry]:
        """The rows still in memory (tests and the webhook engine; spilled rows are only in export)."""
        return list(self._memory)

    def table_since(self, since: float | None = None) -> pa.Table:
        segments, pending, patches = self._snapshot()
        tables = [
            _patched(pq.read_table(path), patches) for path, newest in segments if since is None or newest >= since
        ]
        tables.append(_table([entry.row() for entry in pending if since is None or entry.arrived_at >= since]))
        table = pa.concat_tables(tables)
        if since is not None and len(tables) > 1:
            table = table.filter(pc.greater_equal(table["arrived_at"], since))
        return table

    def records_since(self, since: float | None = None) -> Iterator[dict[str, Any]]:
        segments, pending, patches = self._snapshot()
        for path, newest in segments:
            if since is None or newest >= since:
                for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):  # bounded memory per export
                    for record in batch.to_pylist():
                        if since is None or record["arrived_at"] >= since:
                            patch = patches.get(record["wamid"])
                            if patch:
                                record.update(patch)
                            yield record
        for entry in pending:
            if since is None or entry.arrived_at >= since:
                yield entry.as_record()

    def reset(self) -> None:
        self.wait_spilled()
        for path, _ in self._segments:
            path.unlink(missing_ok=True)
        self._segments.clear()
        self._memory = []
        self._spilled_rows = 0
        self._handed_off = self._appended
        with self._lock:
            self._patches.clear()

    def close(self) -> None:
        """At shutdown: a temporary folder is removed; a configured ``spill_dir`` keeps every row as Parquet
        segments (the last ones written now), so the ledger can be read after the mock stopped or was stopped."""
        if self._owns_dir:
            self.reset()
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None
        else:
            self.spill(wait=True)
