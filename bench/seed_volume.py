"""Seeding speed: ``seed_database`` rows/s as a ratio to a fair bare executemany of the same rows (goal ≥ 0.5).

The goal (issue 4): ``scrmbench vendor seed`` loads a million conversations "in minutes, not hours" with bulk
inserts, so the data-volume scenario measures a real index growing; seeding, Faker generation included, must
run at least half as fast as the obvious good loader of the same rows (ratio ≥ 0.5). The second-to-last line
extrapolates the run to 1,000,000 conversations (5 rows each by default: contact, conversation, 3 messages),
which must come to minutes.

Both sides write the same rows into the same schema and FTS5 index, in fresh files, side by side in one run,
with the same connection settings (``open_connection(bulk=True)``: WAL, synchronous OFF, a 256 MB page cache).
The baseline is the obvious good implementation: rows generated beforehand (not timed), the per-row FTS trigger
dropped, plain executemany in one transaction per batch, then one bulk FTS ``rebuild`` and the trigger put
back. The seeder's time includes generating its rows with Faker pools, and feeds the FTS index once per batch
(so the index is whole after every batch, as a vendor sharing the file needs). The ratio is the last number on
the last line.

    python bench/seed_volume.py [--conversations 100000]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from mocks.vendors.seed import BATCH, RowFactory, batches, insert_rows, seed_database
from mocks.vendors.storage import FTS_TRIGGER, open_connection

MILLION = 1_000_000


def bare_executemany(path: Path, conversations: int, per_conversation: int, seed: int) -> tuple[int, float]:
    """The baseline: pre-generated rows, the seeder's pragmas, executemany per batch, one FTS rebuild at the end."""
    factory = RowFactory(seed)
    now = time.time()
    generated = [
        factory.rows(1 + offset, size, per_conversation, None, now) for offset, size in batches(conversations, BATCH)
    ]
    conn = open_connection(path, bulk=True)
    started = time.perf_counter()
    conn.execute("DROP TRIGGER IF EXISTS messages_fts_insert")
    for rows in generated:
        insert_rows(conn, rows)  # BEGIN, executemany per table, COMMIT
    conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
    conn.execute(FTS_TRIGGER)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    elapsed = time.perf_counter() - started
    conn.close()
    return sum(rows.count for rows in generated), elapsed


def searchable(path: Path) -> int:
    """Messages the FTS index finds for a common word: both sides must have built a whole index."""
    conn = sqlite3.connect(str(path))
    try:
        return int(conn.execute("SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH 'discount'").fetchone()[0])
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per-conversation", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        seeded, bare = Path(tmp) / "seeded.sqlite3", Path(tmp) / "bare.sqlite3"
        report = seed_database(seeded, args.conversations, messages_per_conversation=args.messages_per_conversation)
        bare_rows, bare_s = bare_executemany(bare, args.conversations, args.messages_per_conversation, 0)
        assert searchable(seeded) == searchable(bare) > 0, "both sides must build the same full-text index"
    assert bare_rows == report.rows, "both sides must write the same rows"
    bare_rate = bare_rows / bare_s
    million_min = report.seconds * MILLION / args.conversations / 60
    print(
        f"seed_database: {report.rows:,} rows in {report.seconds:.2f} s = {report.rows_per_s:,.0f} rows/s"
        " (incl. generation)"
    )
    print(f"bare executemany: {bare_rows:,} rows in {bare_s:.2f} s = {bare_rate:,.0f} rows/s (rows pre-generated)")
    print(f"1,000,000 conversations at the seeder's rate: {million_min:.1f} min (goal: minutes, not hours)")
    print(f"seed rows/s ÷ bare executemany rows/s (goal ≥ 0.5): {report.rows_per_s / bare_rate:.3f}")


if __name__ == "__main__":
    main()
