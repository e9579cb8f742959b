"""The ledger: every message the mock accepted, as rows of ``ground.records.LEDGER_SCHEMA``.

Rows live in memory up to ``memory_rows``; past that the oldest rows are written to a Parquet segment on disk and
dropped from memory, so a long soak keeps memory bounded. The writing happens in a background thread
(``segments.SegmentSpill``, shared with the webhook attempt log); rows being written stay visible to exports until
their segment is on disk. Export (``records_since``/``table_since``) reads segments and memory together, in arrival
order, while the mock runs.

Some columns are filled after a row was appended (``inbound_delivered_at`` once the inbound webhook was
acknowledged, and on the replies waiting for it). Such changes go through ``Ledger.update``: a row still in memory
is changed in place; a row already handed to the spill gets an entry in a side table of patches (wamid -> columns)
that every export merges over the Parquet segments, so a spill never freezes a row with its link columns null.
The patches spill too (to ``ledger_patches-*`` segments, past ``memory_rows`` of them), so a soak that links a
reply to every inbound message keeps memory bounded; an export merges patch segments and memory, newest last.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ground.records import LEDGER_COLUMNS, LEDGER_SCHEMA
from mocks.whatsapp.segments import SegmentSpill

_ROW = operator.attrgetter(*LEDGER_COLUMNS)


@dataclass(slots=True)
class LedgerEntry:
    """One accepted message. Fields named like a column of LEDGER_SCHEMA are exported (``row`` picks them by name);
    the others are for the webhook engine (which listens through ``MockState.on_accepted``) only."""

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
    wa_id: str = ""  # the customer's phone number, also when the send used a BSUID (exported)
    category: str = "service"  # marketing | utility | authentication | service (exported; status pricing)
    billable: bool | None = None  # exported; the pricing decided at acceptance (send.pricing_of)
    pricing_type: str | None = None  # exported; regular | free_customer_service | free_entry_point
    async_error_code: int | None = None  # exported; fails later with this code (e.g. 131026), never delivered
    # Not exported:
    user_id: str = ""  # the customer's BSUID
    parent_user_id: str | None = None  # the parent BSUID, when the mock gives them (identity.parent_bsuid)
    phone_withheld: bool = False  # webhooks leave the phone number out (identity.withhold_phone_after_days)
    waba_id: str = ""
    extra: dict[str, Any] | None = None  # per-API extras (marketing.py); None when there are none
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


_COLUMN_GETTERS = [(operator.attrgetter(name), LEDGER_SCHEMA.field(name).type) for name in LEDGER_COLUMNS]


def _entries_table(rows: list[LedgerEntry]) -> pa.Table:
    """The same table as ``_table([entry.row() for entry in rows])``, built a column at a time: no tuple per row
    and no transpose. The spill thread runs this for every row the ledger ever holds, holding the GIL the send path
    needs: 200,000 rows took ~4.5 µs a row of CPU by rows, ~1.1 µs by columns (December 2026, issue 21)."""
    return pa.Table.from_arrays(
        [pa.array(list(map(get, rows)), type=kind) for get, kind in _COLUMN_GETTERS], schema=LEDGER_SCHEMA
    )


PATCHABLE = ("reply_to_wamid", "inbound_delivered_at")  # the columns filled after a row was appended
_PATCHABLE = frozenset(PATCHABLE)
PATCH_SCHEMA = pa.schema([LEDGER_SCHEMA.field("wamid"), *(LEDGER_SCHEMA.field(name) for name in PATCHABLE)])
_Patch = tuple[Any, ...]  # (newest arrived_at in the ledger when the patch spilled, *a row of PATCH_SCHEMA)


def _patches_table(patches: list[_Patch]) -> pa.Table:
    columns: list[Any] = list(zip(*patches, strict=True))[1:] if patches else [[] for _ in PATCH_SCHEMA]
    return pa.Table.from_arrays(
        [pa.array(column, type=field.type) for column, field in zip(columns, PATCH_SCHEMA, strict=True)],
        schema=PATCH_SCHEMA,
    )


def _patch_newest(patches: list[_Patch]) -> float:
    # A patched row arrived before the patch: a patch segment older than an export's ``since`` changes no row in it.
    return float(max(patch[0] for patch in patches))


def _merge_patches(into: dict[str, dict[str, Any]], rows: list[dict[str, Any]]) -> None:
    """Later patches win; a null in a patch segment means "not changed" (patches fill columns, never clear them)."""
    for row in rows:
        columns = {name: row[name] for name in PATCHABLE if row[name] is not None}
        if columns:
            into.setdefault(row["wamid"], {}).update(columns)


def _newest(rows: list[LedgerEntry]) -> float:
    return rows[-1].arrived_at


class Ledger:
    def __init__(self, memory_rows: int = 200_000, spill_dir: str | None = None) -> None:
        self.memory_rows = memory_rows
        self._spill = SegmentSpill(prefix="ledger", spill_dir=spill_dir, to_table=_entries_table, newest=_newest)
        self._patch_spill: SegmentSpill[_Patch] = SegmentSpill(
            prefix="ledger_patches", spill_dir=spill_dir, to_table=_patches_table, newest=_patch_newest
        )
        self._memory: list[LedgerEntry] = []
        self._lock = threading.Lock()  # guards hand-offs to the writers against exports (streamed from a thread)
        self._appended = 0  # rows ever appended; the next row's ``seq``
        self._handed_off = 0  # rows with ``seq`` below this are in a segment or being written to one
        self._patches: dict[str, dict[str, Any]] = {}  # wamid -> columns changed after its row was spilled
        self._last_arrived = float("-inf")  # arrived_at of the newest row appended

    def append(self, entry: LedgerEntry) -> None:
        entry.seq = self._appended
        self._appended += 1
        self._last_arrived = max(self._last_arrived, entry.arrived_at)
        self._memory.append(entry)
        if len(self._memory) >= self.memory_rows:
            self.spill()

    def spill(self, *, wait: bool = False) -> None:
        """Hand the in-memory rows to a background writer that puts them in a new Parquet segment."""
        self._spill.wait()
        if not self._memory:
            return
        with self._lock:  # an export in a thread sees the rows either in memory or in the writer, never neither
            self._spill.hand_off(self._memory)  # raises before taking the rows when the folder cannot be made
            self._memory = []
            self._handed_off = self._appended
        if wait:
            self._spill.wait()

    def update(self, entry: LedgerEntry, **columns: Any) -> None:
        """Change exported columns of a row after it was appended (reply links); survives a spill (see above)."""
        if not columns.keys() <= _PATCHABLE:  # called once per linked reply: no sets built on the way
            unknown = sorted(columns.keys() - _PATCHABLE)
            raise ValueError(f"ledger columns {unknown} are fixed once appended (patchable: {PATCHABLE})")
        for name, value in columns.items():
            setattr(entry, name, value)
        filled = {name: value for name, value in columns.items() if value is not None}
        if filled and 0 <= entry.seq < self._handed_off:  # the writer may already have converted it: patch it
            # A patch fills columns and never clears one, in memory as in its segment (where null means unchanged).
            with self._lock:
                self._patches.setdefault(entry.wamid, {}).update(filled)
                full = len(self._patches) >= self.memory_rows
            if full:
                self._spill_patches()

    def _spill_patches(self) -> None:
        self._patch_spill.wait()
        with self._lock:  # an export in a thread sees the patches either in memory or in the writer, never neither
            patches, self._patches = self._patches, {}
            rows = [(self._last_arrived, wamid, *map(columns.get, PATCHABLE)) for wamid, columns in patches.items()]
            try:
                self._patch_spill.hand_off(rows)
            except OSError:  # no folder: keep them in memory (exports stay right; memory grows, as without spilling)
                self._patches = patches

    @property
    def patched_rows(self) -> int:
        """Patches held in memory (the rest are in patch segments)."""
        return len(self._patches)

    @property
    def spilled_patches(self) -> int:
        return self._patch_spill.size

    def wait_spilled(self) -> None:
        self._spill.wait()
        self._patch_spill.wait()

    def _snapshot(
        self, since: float | None = None
    ) -> tuple[list[tuple[Path, float]], list[LedgerEntry], dict[str, dict[str, Any]]]:
        """Segments on disk, the rows not yet in one (being written, then in memory) and the patches, consistently.

        Patches come from their segments (those that can touch a row at or after ``since``), then from the writer,
        then from memory, so the newest change of a column wins."""
        with self._lock:
            patch_segments, patch_writing = self._patch_spill.snapshot()
            memory = {wamid: dict(columns) for wamid, columns in self._patches.items()}
            segments, writing = self._spill.snapshot()
            pending = [*writing, *self._memory]
        patches: dict[str, dict[str, Any]] = {}
        for path, newest in patch_segments:
            if since is None or newest >= since:
                _merge_patches(patches, pq.read_table(path).to_pylist())
        _merge_patches(patches, [dict(zip(PATCH_SCHEMA.names, row[1:], strict=True)) for row in patch_writing])
        for wamid, columns in memory.items():
            patches.setdefault(wamid, {}).update(columns)
        return segments, pending, patches

    def __len__(self) -> int:
        return self._spill.size + len(self._memory)

    @property
    def memory_size(self) -> int:
        return len(self._memory)

    def entries(self) -> list[LedgerEntry]:
        """The rows still in memory (tests and the webhook engine; spilled rows are only in export)."""
        return list(self._memory)

    def table_since(self, since: float | None = None) -> pa.Table:
        segments, pending, patches = self._snapshot(since)
        tables = [
            _patched(pq.read_table(path), patches) for path, newest in segments if since is None or newest >= since
        ]
        tables.append(_entries_table([entry for entry in pending if since is None or entry.arrived_at >= since]))
        table = pa.concat_tables(tables)
        if since is not None and len(tables) > 1:
            table = table.filter(pc.greater_equal(table["arrived_at"], since))
        return table

    def records_since(self, since: float | None = None) -> Iterator[dict[str, Any]]:
        segments, pending, patches = self._snapshot(since)
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
        self._spill.reset()
        self._patch_spill.reset()
        self._memory = []
        self._handed_off = self._appended
        with self._lock:
            self._patches.clear()

    def close(self) -> None:
        """At shutdown: a temporary folder is removed; a configured ``spill_dir`` keeps every row as Parquet
        segments (the last ones written now), so the ledger can be read after the mock stopped or was stopped."""
        if self._spill.owns_dir:
            self.reset()
        else:
            self.spill(wait=True)
            if self._patches:
                self._spill_patches()
        self._spill.close()
        self._patch_spill.close()


def read_spill_folder(folder: str | Path) -> pa.Table:
    """The ledger a mock left in its ``ledger.spill_dir`` (after it stopped, or crashed), link columns merged.

    Segments are read in name order (start time, pid, sequence: arrival order within each mock process); patch
    segments are merged in the same order, so the newest change of a column wins."""
    folder = Path(folder)
    patches: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("ledger_patches-*.parquet")):
        _merge_patches(patches, pq.read_table(path).to_pylist())
    tables = [_patched(pq.read_table(path), patches) for path in sorted(folder.glob("ledger-*.parquet"))]
    return pa.concat_tables(tables) if tables else _table([])
