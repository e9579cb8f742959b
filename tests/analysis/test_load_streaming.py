"""``load_run`` reads a run row group by row group into the frames' final columns (``read_parquet_frame``): the frames
must be exactly those of the whole-table conversion it replaced (``read_parquet_table`` of each file, joined,
``to_frame``): same dtypes, categories in the same order, the same nulls, the same rows in the same order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.load import (
    ANALYSIS_COLUMNS,
    LEDGER_ANALYSIS_COLUMNS,
    _inbound_wamids,
    load_run,
    read_parquet_frame,
    read_parquet_table,
    to_frame,
)
from analysis.synthetic import write_synthetic_run
from ground.records import LEDGER_SCHEMA, REQUEST_SCHEMA


def whole_table_frame(
    paths: list[Path], schema: pa.Schema, *, nullable_bools: bool = False, lean: bool = False
) -> pd.DataFrame:
    """The frame as the load made it before streaming: every readable file as one table, converted at once."""
    tables = []
    for path in paths:
        try:
            tables.append(read_parquet_table(path, schema))
        except (OSError, pa.ArrowException):
            continue
    table = pa.concat_tables(tables)
    if lean:
        table = _inbound_wamids(table)
    return to_frame(table, nullable_bools=nullable_bools)


def odd_shard(path: Path, rows: int, seed: int, *, drop: tuple[str, ...] = (), status_nulls: bool = True) -> None:
    """A request shard with nulls in every kind of column, categories met in a different order in each row group,
    some columns missing (an older harness), written in row groups of 7 rows."""
    rng = np.random.default_rng(seed)
    ops = np.array(["send_text", "send_template", "upload_media", "customer_message", "send_media"])
    picked = ops[rng.integers(0, len(ops) - seed % 3, rows)]
    null = rng.random(rows) < 0.2
    status = pa.array(rng.integers(200, 504, rows), pa.int32(), mask=null if status_nulls else None)
    data = {
        "scheduled_at": pa.array(rng.random(rows) * 100, mask=rng.random(rows) < 0.3),
        "started_at": pa.array(rng.random(rows) * 100),
        "ended_at": pa.array(rng.random(rows) * 100 + 1),
        "latency_ms": pa.array(rng.random(rows) * 500, mask=null),
        "corrected_latency_ms": pa.array(rng.random(rows) * 900, mask=null),
        "operation": pa.array(picked, mask=rng.random(rows) < 0.05),
        "name": pa.array([f"n{i % 4}" for i in range(rows)]),
        "status": status,
        "ok": pa.array(rng.random(rows) < 0.8, mask=rng.random(rows) < 0.1),
        "outcome": pa.array(rng.choice(["ok", "failed", "indeterminate", "dropped"], rows)),
        "error_kind": pa.array(rng.choice(["timeout", "http_5xx", "reset"], rows), mask=~null),
        "error_code": pa.array([f"E{seed}{i % 3}" for i in range(rows)], mask=rng.random(rows) < 0.5),
        "error_text": pa.array([f"text é {i}" for i in range(rows)], mask=rng.random(rows) < 0.5),
        "bytes_sent": pa.array(rng.integers(0, 9999, rows), pa.int64()),
        "bytes_received": pa.array(rng.integers(0, 9999, rows), pa.int64(), mask=rng.random(rows) < 0.1),
        "correlation_id": pa.array([f"tok-{seed}-{i}" for i in range(rows)], mask=rng.random(rows) < 0.1),
        "vendor_message_id": pa.array([f"m{i}" for i in range(rows)]),
        "worker": pa.array([f"w{seed}"] * rows),
        "vendor": pa.array(["ref"] * rows),
        "scenario": pa.array(["peak"] * rows),
        "phone_number_id": pa.array(rng.choice(["111", "222", "333"], rows)),
    }
    table = pa.table({name: column for name, column in data.items() if name not in drop})
    pq.write_table(table, path, row_group_size=7)


def shards_of(tmp_path: Path) -> Path:
    run = write_synthetic_run(
        tmp_path / "run", duration_s=60, rate=10, fault_at_s=20, inbound=25, shards=3, chunk_rows=90
    ).path
    shards = run / "requests"
    odd_shard(shards / "x1.parquet", 40, 1)
    odd_shard(shards / "x2.parquet", 23, 2, drop=("phone_number_id", "status", "error_text"), status_nulls=False)
    pq.write_table(pq.read_table(shards / "x1.parquet").slice(0, 0), shards / "x3-empty.parquet")
    whole = (shards / "x1.parquet").read_bytes()
    (shards / "x4-truncated.parquet").write_bytes(whole[: len(whole) // 2])  # a worker killed mid-write
    return run


def test_a_multi_shard_multi_row_group_run_loads_to_the_same_requests_frame(tmp_path: Path) -> None:
    run = shards_of(tmp_path)
    paths = sorted((run / "requests").glob("*.parquet"))
    assert sum(pq.ParquetFile(p).num_row_groups for p in paths if "truncated" not in p.name) > 10
    loaded = load_run(run)
    assert loaded.requests["status"].dtype == "float64"  # an integer column with nulls somewhere, as pandas has it
    pd.testing.assert_frame_equal(loaded.requests, whole_table_frame(paths, REQUEST_SCHEMA))
    assert any("x4-truncated.parquet is unreadable and was skipped" in reason for reason in loaded.partial_reasons)
    lean = load_run(run, columns=ANALYSIS_COLUMNS)
    schema = pa.schema([REQUEST_SCHEMA.field(name) for name in ANALYSIS_COLUMNS])
    pd.testing.assert_frame_equal(lean.requests, whole_table_frame(paths, schema))


def test_integers_and_booleans_without_nulls_keep_their_dtypes(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    (folder / "requests").mkdir(parents=True)
    odd_shard(folder / "requests" / "a.parquet", 30, 2, status_nulls=False)
    loaded = load_run(folder)
    assert loaded.requests["status"].dtype == "int32" and loaded.requests["bytes_sent"].dtype == "int64"
    pd.testing.assert_frame_equal(
        loaded.requests, whole_table_frame([folder / "requests" / "a.parquet"], REQUEST_SCHEMA)
    )


@pytest.mark.parametrize("lean", [True, False])
def test_the_ledger_loads_to_the_same_frame(tmp_path: Path, lean: bool) -> None:
    """Row groups of 64 rows, inbound message ids in several of them (the lean load's ``wamid`` rule: inbound ids only,
    as a categorical in their order of first appearance), ``billable`` and ``async_error_code`` with nulls."""
    run = write_synthetic_run(tmp_path / "run", duration_s=60, rate=10, fault_at_s=20, inbound=40)
    ledger = pq.read_table(run.path / "ledger.parquet")
    codes = pa.array(
        np.where(np.arange(ledger.num_rows) % 5 == 0, 131049, 0), pa.int32(), mask=np.arange(ledger.num_rows) % 5 != 0
    )
    ledger = ledger.set_column(ledger.schema.get_field_index("async_error_code"), "async_error_code", codes)
    shuffled = ledger.take(np.random.default_rng(3).permutation(ledger.num_rows))  # inbound rows spread out
    pq.write_table(shuffled, run.path / "ledger.parquet", row_group_size=64)
    assert pq.ParquetFile(run.path / "ledger.parquet").num_row_groups > 5
    loaded = load_run(run.path, columns=ANALYSIS_COLUMNS if lean else None)
    schema = pa.schema([LEDGER_SCHEMA.field(name) for name in LEDGER_ANALYSIS_COLUMNS]) if lean else LEDGER_SCHEMA
    expected = whole_table_frame([run.path / "ledger.parquet"], schema, nullable_bools=True, lean=lean)
    pd.testing.assert_frame_equal(loaded.ledger, expected)
    assert loaded.ledger["billable"].isna().any() and loaded.ledger["async_error_code"].isna().any()
    if lean:
        assert isinstance(loaded.ledger["wamid"].dtype, pd.CategoricalDtype)
        assert loaded.ledger["wamid"].notna().sum() == (loaded.ledger["direction"] == "inbound").sum() > 0


def test_a_truncated_ledger_is_not_analysed(tmp_path: Path) -> None:
    run = write_synthetic_run(tmp_path / "run", duration_s=30, rate=10, fault_at_s=10).path
    whole = (run / "ledger.parquet").read_bytes()
    (run / "ledger.parquet").write_bytes(whole[: len(whole) // 2])
    loaded = load_run(run, columns=ANALYSIS_COLUMNS)
    assert not loaded.has_ledger and loaded.ledger.empty
    assert any("ledger.parquet is unreadable" in reason for reason in loaded.partial_reasons)


def test_only_empty_shards_load_as_an_empty_frame_of_the_same_dtypes(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    (folder / "requests").mkdir(parents=True)
    odd_shard(folder / "requests" / "a.parquet", 10, 1)
    pq.write_table(pq.read_table(folder / "requests" / "a.parquet").slice(0, 0), folder / "requests" / "b.parquet")
    (folder / "requests" / "a.parquet").unlink()
    frame, failures = read_parquet_frame([folder / "requests" / "b.parquet"], REQUEST_SCHEMA)
    assert frame is not None and frame.empty and not failures
    pd.testing.assert_frame_equal(frame, whole_table_frame([folder / "requests" / "b.parquet"], REQUEST_SCHEMA))


def test_a_column_no_shard_has_loads_as_the_same_empty_categorical(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    (folder / "requests").mkdir(parents=True)
    odd_shard(folder / "requests" / "a.parquet", 20, 1, drop=("phone_number_id", "error_code"))
    frame, _ = read_parquet_frame([folder / "requests" / "a.parquet"], REQUEST_SCHEMA)
    assert frame is not None and frame["phone_number_id"].isna().all()
    pd.testing.assert_frame_equal(frame, whole_table_frame([folder / "requests" / "a.parquet"], REQUEST_SCHEMA))


def test_more_categories_than_a_byte_holds_widen_the_codes(tmp_path: Path) -> None:
    """Past 127 categories the codes grow to 16 bits halfway through the load, as pandas would have them."""
    folder = tmp_path / "run"
    (folder / "requests").mkdir(parents=True)
    paths = [folder / "requests" / f"{name}.parquet" for name in ("a", "b")]
    odd_shard(paths[0], 60, 1)
    table = pq.read_table(paths[0])
    names = pa.array([f"name-{(i * 37) % 300}" for i in range(400)])
    many = pa.concat_tables([table] * 7).slice(0, 400)
    many = many.set_column(many.schema.get_field_index("operation"), "operation", names)
    pq.write_table(many, paths[1], row_group_size=50)
    frame, _ = read_parquet_frame(paths, REQUEST_SCHEMA)
    assert frame is not None and len(frame["operation"].cat.categories) > 127
    assert frame["operation"].cat.codes.dtype == "int16"
    pd.testing.assert_frame_equal(frame, whole_table_frame(paths, REQUEST_SCHEMA))
