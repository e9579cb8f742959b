"""Seed the reference vendor's database with N Faker conversations, fast: bulk inserts in big transactions.

Faker is slow per call (tens of µs), so it fills small pools of names and sentences once, and rows are drawn
from the pools with a seeded generator; the full-text index is fed once per batch, not once per row. A million
conversations take minutes, not hours, and the FTS index grows for real (the data-volume scenario measures
search against it, not a sleep).
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mocks.vendors.storage import FTS_TRIGGER, open_connection

BATCH = 20_000  # conversations per transaction: big enough to amortise commits, small enough for memory
AGENTS = ("alice", "bob", "carol", "dave", "erin")
TOPICS = ("discount", "price", "where is my order", "refund", "delivery", "invoice", "size", "warranty")

CONTACT_SQL = "INSERT OR IGNORE INTO contacts(wa_id, name, created_at) VALUES (?, ?, ?)"
CONVERSATION_SQL = (
    "INSERT INTO conversations(id, wa_id, agent, created_at, updated_at, last_text) VALUES (?, ?, ?, ?, ?, ?)"
)
MESSAGE_SQL = (
    "INSERT INTO messages(id, conversation_id, direction, wa_id, type, body, status, created_at)"
    " VALUES (?, ?, ?, ?, 'text', ?, ?, ?)"
)
TAG_SQL = "INSERT OR IGNORE INTO contact_tags(wa_id, tag) VALUES (?, ?)"


@dataclass(frozen=True)
class SeedRows:
    contacts: list[tuple[Any, ...]]
    conversations: list[tuple[Any, ...]]
    messages: list[tuple[Any, ...]]
    tags: list[tuple[Any, ...]]

    @property
    def count(self) -> int:
        return len(self.contacts) + len(self.conversations) + len(self.messages) + len(self.tags)


@dataclass(frozen=True)
class SeedReport:
    conversations: int
    messages: int
    rows: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


class RowFactory:
    """Deterministic rows from Faker pools."""

    def __init__(self, seed: int = 0, pool: int = 2_000) -> None:
        from faker import Faker

        fake = Faker(["en_US", "de_DE"])
        fake.seed_instance(seed)
        self.random = random.Random(seed)
        self.names = [fake.name() for _ in range(pool)]
        self.sentences = [fake.sentence(nb_words=8) for _ in range(pool)]

    def rows(self, first_id: int, count: int, per_conversation: int, tag: str | None, now: float) -> SeedRows:
        rng, names, sentences = self.random, self.names, self.sentences
        contacts: list[tuple[Any, ...]] = []
        conversations: list[tuple[Any, ...]] = []
        messages: list[tuple[Any, ...]] = []
        tags: list[tuple[Any, ...]] = []
        for conversation_id in range(first_id, first_id + count):
            wa_id = f"49{1_500_000_000 + conversation_id}"
            at = now - rng.random() * 30 * 86_400
            contacts.append((wa_id, rng.choice(names), at))
            body = ""
            for index in range(per_conversation):
                inbound = index % 2 == 0
                body = f"{rng.choice(TOPICS)}: {rng.choice(sentences)}" if inbound else rng.choice(sentences)
                messages.append(
                    (f"seed_{conversation_id}_{index}", conversation_id, "in" if inbound else "out", wa_id, body,
                     "received" if inbound else "read", at + index)
                )  # fmt: skip
            conversations.append((conversation_id, wa_id, rng.choice(AGENTS), at, at + per_conversation, body[:200]))
            if tag is not None:
                tags.append((wa_id, tag))
        return SeedRows(contacts, conversations, messages, tags)


def insert_rows(conn: sqlite3.Connection, rows: SeedRows) -> None:
    """One transaction of plain executemany calls; the FTS index is fed row by row by its trigger if it is in place
    (bench/seed_volume.py's baseline drops the trigger and rebuilds the index once at the end)."""
    conn.execute("BEGIN")
    _insert_tables(conn, rows)
    conn.execute("COMMIT")


def insert_rows_bulk(conn: sqlite3.Connection, rows: SeedRows) -> None:
    """The same rows, with the FTS index fed in one INSERT … SELECT instead of one trigger call per row.

    Dropping and re-creating the trigger happens inside the transaction (SQLite DDL is transactional), so a
    vendor writing to the same file meanwhile waits for the lock and never sees the trigger missing.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        before = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM messages").fetchone()[0])
        conn.execute("DROP TRIGGER IF EXISTS messages_fts_insert")
        _insert_tables(conn, rows)
        conn.execute("INSERT INTO messages_fts(rowid, body) SELECT seq, body FROM messages WHERE seq > ?", (before,))
        conn.execute(FTS_TRIGGER)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _insert_tables(conn: sqlite3.Connection, rows: SeedRows) -> None:
    conn.executemany(CONTACT_SQL, rows.contacts)
    conn.executemany(CONVERSATION_SQL, rows.conversations)
    conn.executemany(MESSAGE_SQL, rows.messages)
    conn.executemany(TAG_SQL, rows.tags)


def batches(total: int, size: int) -> Iterator[tuple[int, int]]:
    done = 0
    while done < total:
        step = min(size, total - done)
        yield done, step
        done += step


def seed_database(
    path: str | Path,
    conversations: int,
    *,
    messages_per_conversation: int = 3,
    tag: str | None = None,
    seed: int = 0,
    batch: int = BATCH,
) -> SeedReport:
    """Append ``conversations`` generated conversations to the database at ``path`` (created if missing)."""
    started = time.perf_counter()
    conn = open_connection(path, bulk=True)
    try:
        first_id = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM conversations").fetchone()[0])
        factory = RowFactory(seed)
        now = time.time()
        rows_total = messages_total = 0
        for offset, size in batches(conversations, batch):
            rows = factory.rows(first_id + offset, size, messages_per_conversation, tag, now)
            insert_rows_bulk(conn, rows)
            rows_total += rows.count
            messages_total += len(rows.messages)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return SeedReport(conversations, messages_total, rows_total, time.perf_counter() - started)
