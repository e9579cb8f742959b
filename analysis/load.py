"""Load a results folder into typed frames; the only module of ``analysis`` that touches the disk for reading.

A run that was cut short still loads: a missing ``manifest.json``, ledger or fault log, an unreadable (truncated)
last request shard, or ``complete: false`` in the manifest all mark the run ``partial`` with one plain reason
each, so the scorecard can say what is missing instead of failing. Only a folder with neither a manifest nor a
single readable request shard cannot be analysed (``AnalysisError``, exit 3); a path that is no folder at all is
bad input (``ConfigError`` naming ``RUN_DIR``, exit 2).

The harness's health samples (``health.parquet`` and ``health/*.parquet``) are optional: without them the harness
was "not measured" (``has_health`` false), which never makes a run partial.

Frames keep pyarrow-backed columns (``types_mapper=pd.ArrowDtype`` is not used: pandas' own ``str`` dtype is
already arrow-backed), so a 5-million-row run costs little more than the Parquet data itself. The text columns
with a handful of values (``CATEGORICAL_COLUMNS``: operation, outcome, error kind, direction, ...) are read as
Parquet stores them, dictionary-encoded, and become pandas categoricals: one byte a row instead of a string.
The request shards and the ledger are read row group by row group straight into the frames' columns
(``read_parquet_frame``), so loading never holds a run's arrow table beside its frame.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import ValidationError

from analysis.accounting import WEBHOOK_EVICTION_ATTR
from ground.errors import AnalysisError
from ground.paths import run_folder
from ground.records import (
    AGENT_EVENT_SCHEMA,
    HEALTH_SCHEMA,
    LEDGER_SCHEMA,
    REQUEST_SCHEMA,
    VENDOR_EVENT_SCHEMA,
    WEBHOOK_ATTEMPT_SCHEMA,
    FaultEvent,
    RunManifest,
)


@dataclass
class RunData:
    """Everything a results folder holds, as frames; ``partial_reasons`` says what was missing or cut."""

    path: Path
    manifest: RunManifest
    requests: pd.DataFrame
    ledger: pd.DataFrame
    webhooks: pd.DataFrame
    faults: list[FaultEvent]
    partial_reasons: list[str] = field(default_factory=list)
    has_ledger: bool = True
    has_webhooks: bool = True
    webhooks_evicted: int = 0  # older attempt records the mock dropped (webhook figures cover only the rest)
    webhooks_evicted_until: float | None = None  # the newest sent_at among them
    # The harness's own health samples (health.parquet plus health/*.parquet); empty when not recorded.
    health: pd.DataFrame = field(default_factory=lambda: empty_frame(HEALTH_SCHEMA))
    has_health: bool = False
    health_skipped: list[str] = field(default_factory=list)  # unreadable health files, left out
    # What the agents of a contact-centre run saw and did (agents/*.parquet); empty without agents.
    agents: pd.DataFrame = field(default_factory=lambda: empty_frame(AGENT_EVENT_SCHEMA))
    # What the vendor reported through its callbacks (vendor_events.parquet plus vendor_events/*.parquet); empty
    # and has_vendor_events false when the run had no callback receiver.
    vendor_events: pd.DataFrame = field(default_factory=lambda: empty_frame(VENDOR_EVENT_SCHEMA))
    has_vendor_events: bool = False

    @property
    def partial(self) -> bool:
        return bool(self.partial_reasons)


def empty_frame(schema: pa.Schema) -> pd.DataFrame:
    frame: pd.DataFrame = schema.empty_table().to_pandas()
    return frame


# Text columns with a handful of distinct values: read dictionary-encoded, analysed as categoricals.
CATEGORICAL_COLUMNS = frozenset(
    {
        # requests
        "operation",
        "name",
        "outcome",
        "error_kind",
        "error_code",
        "worker",
        "vendor",
        "scenario",
        # ledger ("recipient" and "wa_id": a run has far fewer customers than messages)
        "direction",
        "recipient",
        "wa_id",
        "phone_number_id",
        "type",
        "category",
        "pricing_type",
    }
)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Add missing columns as nulls and cast to the schema, so older or partial shards still concatenate; the
    ``CATEGORICAL_COLUMNS`` stay dictionary-encoded."""
    columns, fields = [], []
    for fld in schema:
        kind = pa.dictionary(pa.int32(), fld.type) if fld.name in CATEGORICAL_COLUMNS else fld.type
        if fld.name in table.column_names:
            columns.append(table.column(fld.name).cast(kind))
        else:
            columns.append(pa.nulls(table.num_rows, type=kind))
        fields.append(pa.field(fld.name, kind))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def to_frame(table: pa.Table, *, nullable_bools: bool = False) -> pd.DataFrame:
    """``table`` as a pandas frame, freeing each arrow column once converted (``self_destruct``: a run's columns are
    not held twice while loading; the caller must not use ``table`` afterwards). ``nullable_bools``: boolean columns
    become pandas' nullable ``boolean`` (two bytes a row) instead of ``object`` when they hold nulls (a Python
    object a row, 34 bytes: the ledger's ``billable`` is null on every inbound row)."""
    mapper = {pa.bool_(): pd.BooleanDtype()}.get if nullable_bools else None
    frame: pd.DataFrame = table.to_pandas(split_blocks=True, self_destruct=True, types_mapper=mapper)
    return frame


def read_parquet_table(path: Path, schema: pa.Schema) -> pa.Table:
    present = set(pq.read_schema(path).names)
    names = [n for n in schema.names if n in present]
    table = pq.read_table(path, columns=names, read_dictionary=[n for n in names if n in CATEGORICAL_COLUMNS])
    return _conform(table, schema)


# The request columns the analysis itself reads; ``load_run(..., columns=ANALYSIS_COLUMNS)`` skips the rest
# (error texts, names, message ids), which makes scoring a 5-million-row run markedly cheaper.
ANALYSIS_COLUMNS: tuple[str, ...] = (
    "scheduled_at",
    "started_at",
    "ended_at",
    "latency_ms",
    "corrected_latency_ms",
    "operation",
    "ok",
    "outcome",
    "error_kind",
    "error_code",
    "correlation_id",
    "vendor",
    "scenario",
    "phone_number_id",  # per-number figures (analysis/numbers.py)
)
LEDGER_ANALYSIS_COLUMNS: tuple[str, ...] = (
    "arrived_at",
    "wamid",
    "direction",
    "correlation_id",
    "reply_to_wamid",
    "inbound_delivered_at",
    # What the traffic cost (analysis/cost.py)
    "recipient",
    "wa_id",
    "category",
    "billable",
    "pricing_type",
    "phone_number_id",
    "async_error_code",
)


def _read_request_shards(folder: Path, reasons: list[str], schema: pa.Schema) -> pd.DataFrame | None:
    shard_dir = folder / "requests"
    shards = sorted(shard_dir.glob("*.parquet")) if shard_dir.is_dir() else []
    if not shards:
        reasons.append("no request records (requests/*.parquet missing)")
        return None
    frame, failures = read_parquet_frame(shards, schema)
    for shard, exc in failures:
        # A worker killed mid-write leaves a truncated shard; what the other shards hold is still valid.
        reasons.append(f"request shard {shard.name} is unreadable and was skipped ({type(exc).__name__})")
    return frame


def read_parquet_frame(
    paths: list[Path],
    schema: pa.Schema,
    *,
    nullable_bools: bool = False,
    lean: Callable[[pa.Table], pa.Table] | None = None,
) -> tuple[pd.DataFrame | None, list[tuple[Path, Exception]]]:
    """The Parquet files ``paths`` read in ``schema`` into one frame, row group by row group, and the files that
    could not be read (each skipped whole, with its error); None when none could.

    The same frame as ``to_frame`` of the files' tables conformed and joined (same dtypes, categories and their
    order, nulls), but the run's rows are never held twice: the frame's columns are allocated once for the rows
    the files' footers announce and each row group is decoded straight into them, so the load's peak is the frame
    plus one row group, not the frame plus the arrow table it was converted from (at 10 million requests and as
    many ledger rows, frames of 1.26 GB: a 1.65 GB load peak, 2.52 GB converting whole tables).
    ``lean``: applied to each row group's table."""
    failures: list[tuple[int, Path, Exception]] = []
    opened: list[tuple[int, pq.ParquetFile, list[str]]] = []
    for index, path in enumerate(paths):
        try:
            present = set(pq.read_schema(path).names)
            names = [n for n in schema.names if n in present]
            opened.append(
                (index, pq.ParquetFile(path, read_dictionary=[n for n in names if n in CATEGORICAL_COLUMNS]), names)
            )
        except (OSError, pa.ArrowException) as exc:
            failures.append((index, path, exc))
    columns: dict[str, _ColumnFill] | None = None
    rows = sum(file.metadata.num_rows for _, file, _ in opened)
    at = 0
    for index, file, names in opened:
        start, marks = at, {name: fill.mark() for name, fill in (columns or {}).items()}
        try:
            for group in range(file.num_row_groups):
                table = _conform(file.read_row_group(group, columns=names), schema)
                if lean is not None:
                    table = lean(table)
                if columns is None:
                    columns = {fld.name: _ColumnFill(fld.type, rows, nullable_bools) for fld in table.schema}
                    marks = {name: fill.mark() for name, fill in columns.items()}
                for name, fill in columns.items():
                    fill.put(at, table.column(name))
                at += table.num_rows
                del table
        except (OSError, pa.ArrowException) as exc:
            at = start  # the file's rows read so far are overwritten by the next file's, or cut off at the end
            for name, fill in (columns or {}).items():
                fill.rollback(marks[name])
            failures.append((index, paths[index], exc))
        finally:
            file.close()
    failed = [(path, exc) for _, path, exc in sorted(failures, key=lambda failure: failure[0])]
    if len(failures) == len(paths):
        return None, failed
    if columns is None:  # only files without row groups: their (empty) tables as the frame
        empty = [_conform(pq.read_table(paths[index], columns=names), schema) for index, _, names in opened]
        table = pa.concat_tables([lean(t) if lean is not None else t for t in empty])
        return to_frame(table, nullable_bools=nullable_bools), failed
    return pd.DataFrame({name: fill.finish(at) for name, fill in columns.items()}, copy=False), failed


class _ColumnFill:
    """One frame column filled row group by row group into its final storage, converted as ``to_frame`` converts:
    floats into a float array (nulls NaN); integers and booleans into their array and a null mask (an integer column
    with nulls becomes float64, a boolean one ``object``, or pandas' ``boolean`` with ``nullable_bools``);
    dictionary columns into categorical codes (one byte a row) over one dictionary, unified chunk by chunk the way
    pyarrow unifies a column's dictionaries (each chunk's new values appended in its dictionary's order); any other
    type (text) as its arrow chunks (text as ``large_string``, the type pandas' ``str`` keeps), handed to pandas at
    the end without a copy. ``mark`` and ``rollback`` undo a file that turned out unreadable halfway."""

    def __init__(self, kind: pa.DataType, rows: int, nullable_bools: bool) -> None:
        self.kind, self.nullable_bools = kind, nullable_bools
        self.values: np.ndarray | None = None
        self.nulls: np.ndarray | None = None
        self.dictionary: pa.Array | None = None
        self.chunks: list[pa.Array] = []
        if pa.types.is_dictionary(kind):
            self.values = np.empty(rows, dtype="int8")
            self.dictionary = pa.array([], type=kind.value_type)
        elif pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_boolean(kind):
            self.values = np.empty(rows, dtype=kind.to_pandas_dtype())

    def mark(self) -> tuple[int, int]:
        return len(self.chunks), len(self.dictionary) if self.dictionary is not None else 0

    def rollback(self, mark: tuple[int, int]) -> None:
        del self.chunks[mark[0] :]
        if self.dictionary is not None:
            self.dictionary = self.dictionary.slice(0, mark[1])

    def put(self, at: int, column: pa.ChunkedArray) -> None:
        if self.values is None:
            wide = pa.large_string() if pa.types.is_string(self.kind) else self.kind
            self.chunks.extend(chunk.cast(wide) for chunk in column.chunks)
            return
        if self.dictionary is not None:
            for chunk in column.chunks:
                self._put_codes(at, chunk)
                at += len(chunk)
            return
        end = at + len(column)
        if pa.types.is_floating(self.kind):
            self.values[at:end] = column.to_numpy()
            return
        if column.null_count and self.nulls is None:
            self.nulls = np.zeros(len(self.values), dtype=bool)
        if self.nulls is not None:
            self.nulls[at:end] = column.is_null().to_numpy()
        filled = column.fill_null(False if pa.types.is_boolean(self.kind) else 0) if column.null_count else column
        self.values[at:end] = filled.to_numpy()

    def _put_codes(self, at: int, chunk: pa.DictionaryArray) -> None:
        assert self.values is not None and self.dictionary is not None
        known = pa.DictionaryArray.from_arrays(pa.array([], type=self.kind.index_type), self.dictionary)
        unified = pa.chunked_array([known, chunk], type=self.kind).unify_dictionaries()
        chunk = unified.chunk(1)
        self.dictionary = chunk.dictionary
        limit = np.iinfo(self.values.dtype).max
        if len(self.dictionary) > limit:
            wider = np.int16 if len(self.dictionary) <= np.iinfo(np.int16).max else np.int32
            self.values = self.values.astype(wider)
        codes = pc.fill_null(chunk.indices, -1).to_numpy()
        self.values[at : at + len(codes)] = codes

    def finish(self, rows: int) -> Any:
        if self.values is None:
            table = pa.table(
                {"column": pa.chunked_array(self.chunks, type=self.chunks[0].type if self.chunks else self.kind)}
            )
            self.chunks = []
            return to_frame(table)["column"].array
        values = self.values[:rows]
        if self.dictionary is not None:
            # The categories as pyarrow converts the dictionary (an empty one to ``object``, else pandas' ``str``).
            none = pa.DictionaryArray.from_arrays(pa.array([], type=self.kind.index_type), self.dictionary)
            dtype = to_frame(pa.table({"column": none}))["column"].dtype
            assert isinstance(dtype, pd.CategoricalDtype)
            return pd.Categorical.from_codes(values, dtype=dtype)
        nulls = self.nulls[:rows] if self.nulls is not None and self.nulls[:rows].any() else None
        if pa.types.is_boolean(self.kind):
            if self.nullable_bools:
                return pd.arrays.BooleanArray(values, nulls if nulls is not None else np.zeros(rows, dtype=bool))
            if nulls is not None:
                objects = values.astype(object)
                objects[nulls] = None
                return objects
            return values
        if nulls is not None and pa.types.is_integer(self.kind):
            floats = values.astype("float64")
            floats[nulls] = np.nan
            return floats
        return values


def read_agent_events(folder: Path, reasons: list[str]) -> pd.DataFrame:
    """``agents/*.parquet`` as one frame (empty without agents); an unreadable shard is skipped and said."""
    shard_dir = folder / "agents"
    tables = []
    for shard in sorted(shard_dir.glob("*.parquet")) if shard_dir.is_dir() else []:
        try:
            tables.append(read_parquet_table(shard, AGENT_EVENT_SCHEMA))
        except (OSError, pa.ArrowException) as exc:
            reasons.append(f"agent event shard {shard.name} is unreadable and was skipped ({type(exc).__name__})")
    return pa.concat_tables(tables).to_pandas() if tables else empty_frame(AGENT_EVENT_SCHEMA)


def _read_optional(
    path: Path,
    schema: pa.Schema,
    what: str,
    reasons: list[str],
    *,
    nullable_bools: bool = False,
    lean: Callable[[pa.Table], pa.Table] | None = None,
) -> pd.DataFrame | None:
    """``path`` read in ``schema`` as a frame; None (and a reason) when it is missing or unreadable. ``lean``: applied
    to each row group's arrow table before it goes into the frame (``read_parquet_frame``)."""
    if not path.exists():
        reasons.append(f"no {what} ({path.name} missing)")
        return None
    frame, failures = read_parquet_frame([path], schema, nullable_bools=nullable_bools, lean=lean)
    for _, exc in failures:
        reasons.append(f"{path.name} is unreadable ({type(exc).__name__}); {what} not analysed")
    return frame


# Written by the mock's attempt export (mocks/whatsapp/webhooks/attempts.py) in webhooks.parquet's schema metadata:
# attempt records it had to drop, and the newest sent_at among them.
WEBHOOK_EVICTED_KEY = b"scrmbench.attempts_evicted"
WEBHOOK_EVICTED_UNTIL_KEY = b"scrmbench.attempts_evicted_until"


def read_webhook_eviction(path: Path) -> tuple[int, float | None]:
    """(attempt records the mock dropped, newest sent_at among them) from ``webhooks.parquet``; (0, None) when
    the file says nothing was dropped or carries no such metadata (an older export)."""
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException):
        return 0, None
    try:
        evicted = int(metadata.get(WEBHOOK_EVICTED_KEY, b"0") or 0)
        raw = metadata.get(WEBHOOK_EVICTED_UNTIL_KEY, b"")
        until = float(raw) if raw else None
    except ValueError:
        return 0, None
    return max(evicted, 0), until


def read_health(folder: Path) -> tuple[pd.DataFrame | None, list[str]]:
    """The run's health samples: ``health.parquet`` (merged at the run's end) plus any ``health/*.parquet``
    shards (written while it runs, left behind by a crash), which hold disjoint rows. (None, []) when there are
    none: the harness's health was not measured, which never makes a run partial. An unreadable file (a shard
    cut mid-write) is skipped and named."""
    files = [folder / "health.parquet"] if (folder / "health.parquet").is_file() else []
    shard_dir = folder / "health"
    files += sorted(shard_dir.glob("*.parquet")) if shard_dir.is_dir() else []
    tables, skipped = [], []
    for path in files:
        try:
            tables.append(read_parquet_table(path, HEALTH_SCHEMA))
        except (OSError, pa.ArrowException) as exc:
            skipped.append(f"{path.relative_to(folder)} is unreadable and was skipped ({type(exc).__name__})")
    if not tables:
        return None, skipped
    return pa.concat_tables(tables).to_pandas(), skipped


def read_vendor_events(folder: Path) -> tuple[pd.DataFrame | None, list[str]]:
    """The vendor's reported events: ``vendor_events.parquet`` (merged at the run's end) plus any shards left by a
    run cut short. (None, []) when the run had no callback receiver; unreadable files are skipped and named."""
    files = [folder / "vendor_events.parquet"] if (folder / "vendor_events.parquet").is_file() else []
    shard_dir = folder / "vendor_events"
    files += sorted(shard_dir.glob("*.parquet")) if shard_dir.is_dir() else []
    if not files and not shard_dir.is_dir():
        return None, []
    tables, skipped = [], []
    for path in files:
        try:
            tables.append(read_parquet_table(path, VENDOR_EVENT_SCHEMA))
        except (OSError, pa.ArrowException) as exc:
            skipped.append(f"{path.relative_to(folder)} is unreadable and was skipped ({type(exc).__name__})")
    table = pa.concat_tables(tables) if tables else VENDOR_EVENT_SCHEMA.empty_table()
    return table.to_pandas(), skipped


def _inbound_wamids(ledger: pa.Table) -> pa.Table:
    """The ledger with ``wamid`` kept on the inbound rows only, dictionary-encoded (a categorical): no figure reads
    an outbound message id unless the vendor reported on its messages, and at 5 million rows the outbound ids alone
    were 124 MB of text, an eighth of the frames."""
    if "wamid" not in ledger.column_names or "direction" not in ledger.column_names:
        return ledger
    inbound = pc.equal(ledger.column("direction").cast(pa.string()), "inbound")
    kept = pc.if_else(inbound, ledger.column("wamid"), pa.scalar(None, type=pa.string()))
    at = ledger.column_names.index("wamid")
    return ledger.set_column(at, pa.field("wamid", pa.dictionary(pa.int32(), pa.string())), pc.dictionary_encode(kept))


def read_faults(path: Path, reasons: list[str]) -> list[FaultEvent]:
    if not path.exists():
        return []
    events: list[FaultEvent] = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(FaultEvent.model_validate(json.loads(line)))
        except (ValueError, ValidationError):
            # The last line of a killed run may be half written; keep the rest.
            reasons.append(f"faults.jsonl line {number} is unreadable and was skipped")
    return sorted(events, key=lambda event: event.at)


def _read_manifest(folder: Path, requests: pd.DataFrame, reasons: list[str]) -> RunManifest:
    path = folder / "manifest.json"
    if path.exists():
        try:
            return RunManifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, ValidationError) as exc:
            reasons.append(f"manifest.json is unreadable ({type(exc).__name__}); run details inferred from records")
    else:
        reasons.append("no manifest.json; run details inferred from the records")
    if requests.empty:
        raise AnalysisError(
            f"{folder}: nothing to analyse: no readable manifest.json and no request records. "
            "Fix: point at a results folder written by 'scrmbench run'."
        )
    scenario = str(requests["scenario"].dropna().iloc[0]) if requests["scenario"].notna().any() else "unknown"
    vendor = str(requests["vendor"].dropna().iloc[0]) if requests["vendor"].notna().any() else "unknown"
    return RunManifest(
        run_id=folder.name,
        scenario=scenario,
        vendor={"name": vendor},
        started_at=float(requests["started_at"].min()),
        ended_at=float(requests["ended_at"].max()),
        complete=False,
    )


def use_retaining_allocator() -> None:
    """Make jemalloc pyarrow's default memory pool for this process, when the build has it.

    The analysis allocates and frees arrays of a run's size many times over; pyarrow's default (mimalloc) hands
    freed memory back to the system at once, so every next array faults its pages in afresh: at 5 million rows
    reading took 5.2 s instead of 1.4 s and the token numbering 2.5 s instead of 1.8 s. jemalloc keeps freed
    pages for reuse. Buffers already allocated keep their own pool, so switching at any time is safe."""
    if "jemalloc" in pa.supported_memory_backends() and pa.default_memory_pool().backend_name != "jemalloc":
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    _glibc_keeps_freed_memory()
    _numpy_without_hugepage_advice()


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4


def _glibc_keeps_freed_memory() -> None:
    """numpy's arrays come from glibc's malloc, which maps every block over 32 MB afresh and unmaps it when freed,
    so each of the analysis's many run-sized arrays faults its pages in again (at 5 million rows: 8.7 s of system
    time in a 12 s scoring, 4 s with this; scoring 8.1-8.5 s instead of 8.8-11.8 s, peak RSS +60 MB). Large blocks
    come from the heap instead and freed ones stay for reuse until the process ends. Without glibc (another libc,
    another system), nothing changes."""
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_MAX, 0)
        libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
    except (OSError, AttributeError):
        return


def _numpy_without_hugepage_advice() -> None:
    """numpy advises the kernel to back every array of 4 MB or more with huge pages (``madvise(MADV_HUGEPAGE)``).
    Where transparent huge pages are ``madvise`` with ``defrag`` ``madvise`` (Debian's default), each first touch
    of such an array may stall in memory compaction, and on a machine with no free huge page it stalls for nothing:
    allocating and touching 2.4 GB took 6.3 s of system time with the advice, 0.9 s without, and scoring 5 million
    rows 6.8 s instead of 5.4 s (figures the same). The scoring streams through its arrays, so huge pages would buy
    little even when granted. numpy's own switch (``NUMPY_MADVISE_HUGEPAGE=0`` read at import) set at run time."""
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            switch = getattr(importlib.import_module(module), "_set_madvise_hugepage", None)
        except ImportError:
            continue
        if callable(switch):
            switch(False)
            return


def load_run(folder: Path | str, *, columns: tuple[str, ...] | None = None) -> RunData:
    """Read ``folder`` (one run's results) into a ``RunData``; see the module docstring for partial runs.

    ``columns`` limits the request columns read (default: all of ``REQUEST_SCHEMA``); when given, the ledger is
    read with ``LEDGER_ANALYSIS_COLUMNS`` only.
    """
    folder = run_folder(folder)  # a wrong path is the user's input (exit 2), a damaged folder the harness's (3)
    use_retaining_allocator()
    vendor_events, events_skipped = read_vendor_events(folder)
    if columns is not None and vendor_events is not None and "vendor_message_id" not in columns:
        columns = (*columns, "vendor_message_id")  # the vendor's reports join the sends by its message id
    schema = REQUEST_SCHEMA if columns is None else pa.schema([REQUEST_SCHEMA.field(name) for name in columns])
    reasons: list[str] = []
    read = _read_request_shards(folder, reasons, schema)
    requests = read if read is not None else empty_frame(schema)
    manifest = _read_manifest(folder, requests, reasons)
    if not manifest.complete and not any("manifest" in reason for reason in reasons):
        reasons.insert(0, "the run did not complete (manifest says complete: false)")
    ledger_schema = LEDGER_SCHEMA
    if columns is not None:  # the lean path reads only what the accounting joins on
        ledger_schema = pa.schema([LEDGER_SCHEMA.field(name) for name in LEDGER_ANALYSIS_COLUMNS])
    ledger = _read_optional(
        folder / "ledger.parquet",
        ledger_schema,
        "ledger export",
        reasons,
        nullable_bools=True,
        # The lean path keeps the message ids the figures read: the inbound ones (replies, dispatch, agents), and
        # the outbound ones only for the vendor's reports (analysis/reported.py).
        lean=_inbound_wamids if columns is not None and vendor_events is None else None,
    )
    # Webhook attempts only exist when the candidate receives the mock's webhooks; their absence is reported
    # as "not measured" by the summary, not as a cut-short run.
    webhooks = _read_optional(folder / "webhooks.parquet", WEBHOOK_ATTEMPT_SCHEMA, "webhook attempts", [])
    has_webhooks = webhooks is not None
    evicted, evicted_until = read_webhook_eviction(folder / "webhooks.parquet") if webhooks is not None else (0, None)
    if webhooks is None:
        webhooks = empty_frame(WEBHOOK_ATTEMPT_SCHEMA)
    # Carried on the frame so every figure computed from it can say it covers only the later attempts.
    webhooks.attrs[WEBHOOK_EVICTION_ATTR] = {"evicted": evicted, "evicted_until": evicted_until}
    faults = read_faults(folder / "faults.jsonl", reasons)
    if "ledger" in manifest.unmeasured:
        # A SaaS candidate cannot be pointed at the mock: that is a known limit, not a broken run.
        reasons[:] = [reason for reason in reasons if "ledger.parquet" not in reason]
    health, health_skipped = read_health(folder)
    reasons += events_skipped
    return RunData(
        path=folder,
        manifest=manifest,
        requests=requests,
        ledger=ledger if ledger is not None else empty_frame(ledger_schema),
        webhooks=webhooks,
        faults=faults,
        partial_reasons=reasons,
        has_ledger=ledger is not None,
        has_webhooks=has_webhooks,
        webhooks_evicted=evicted,
        webhooks_evicted_until=evicted_until,
        health=health if health is not None else empty_frame(HEALTH_SCHEMA),
        has_health=health is not None,
        health_skipped=health_skipped,
        agents=read_agent_events(folder, reasons),
        vendor_events=vendor_events if vendor_events is not None else empty_frame(VENDOR_EVENT_SCHEMA),
        has_vendor_events=vendor_events is not None,
    )
