"""Seeding speed: ``seed_database`` rows/s as a ratio to a bare executemany of the same rows (goal ≥ 0.5).

Both sides write the same rows into the same schema and FTS5 index in fresh files, side by side in one
run. The seeder's time includes generating the rows with Faker pools and its pragmas; the baseline gets the rows
already generated and inserts them with plain executemany in one transaction per batch, its FTS index fed by
the per-row trigger (the seeder feeds it once per batch). The ratio is the last number on the last line.

    python bench/seed_volume.py [--conversations 100000]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from mocks.vendors.seed import BATCH, RowFactory, batches, insert_rows, seed_database
from mocks.vendors.storage import SCHEMA


def bare_executemany(path: Path, conversations: int, per_conversation: int, seed: int) -> tuple[int, float]:
    """The baseline: pre-generated rows, default pragmas (rollback journal, synchronous FULL), executemany."""
    factory = RowFactory(seed)
    now = time.time()
    generated = [
        factory.rows(1 + offset, size, per_conversation, None, now) for offset, size in batches(conversations, BATCH)
    ]
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.executescript(SCHEMA)
    started = time.perf_counter()
    for rows in generated:
        insert_rows(conn, rows)
    elapsed = time.perf_counter() - started
    conn.close()
    return sum(rows.count for rows in generated), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per-conversation", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = seed_database(
            Path(tmp) / "seeded.sqlite3", args.conversations, messages_per_conversation=args.messages_per_conversation
        )
        bare_rows, bare_s = bare_executemany(
            Path(tmp) / "bare.sqlite3", args.conversations, args.messages_per_conversation, 0
        )
    assert bare_rows == report.rows, "both sides must write the same rows"
    bare_rate = bare_rows / bare_s
    print(
        f"seed_database: {report.rows:,} rows in {report.seconds:.2f} s = {report.rows_per_s:,.0f} rows/s"
        " (incl. generation)"
    )
    print(f"bare executemany: {bare_rows:,} rows in {bare_s:.2f} s = {bare_rate:,.0f} rows/s (rows pre-generated)")
    print(f"seed rows/s ÷ bare executemany rows/s (goal ≥ 0.5): {report.rows_per_s / bare_rate:.3f}")


if __name__ == "__main__":
    main()
