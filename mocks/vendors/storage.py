"""The reference vendor's storage: one SQLite file in WAL mode, full-text search with FTS5.

Two instances of an HA pair open the same file, so every write is a short transaction and every connection
waits on a busy database instead of failing (``busy_timeout``). Idempotency lives in the schema: an inbound
message is unique by wamid and a status by (wamid, status), so a replayed webhook is stored once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts(wa_id TEXT PRIMARY KEY, name TEXT, created_at REAL);
CREATE TABLE IF NOT EXISTS contact_tags(wa_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY(wa_id, tag)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS contact_tags_tag ON contact_tags(tag);
CREATE TABLE IF NOT EXISTS conversations(
    id INTEGER PRIMARY KEY, wa_id TEXT UNIQUE NOT NULL, agent TEXT, created_at REAL, updated_at REAL,
    last_text TEXT);
CREATE INDEX IF NOT EXISTS conversations_agent ON conversations(agent);
CREATE TABLE IF NOT EXISTS messages(
    seq INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, conversation_id INTEGER, direction TEXT NOT NULL,
    wa_id TEXT, type TEXT, body TEXT, wamid TEXT UNIQUE, status TEXT, broadcast_id TEXT, payload TEXT,
    created_at REAL, sent_at REAL, error TEXT, attempts INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS messages_broadcast ON messages(broadcast_id, status);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages(conversation_id);
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(body, content='messages', content_rowid='seq');
CREATE TABLE IF NOT EXISTS statuses(
    wamid TEXT NOT NULL, status TEXT NOT NULL, at REAL, error TEXT, PRIMARY KEY(wamid, status)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox(
    seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL, available_at REAL NOT NULL, claimed_by TEXT,
    claimed_until REAL, attempts INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS media(media_id TEXT PRIMARY KEY, mime TEXT, size INTEGER, created_at REAL);
CREATE TABLE IF NOT EXISTS broadcasts(
    id TEXT PRIMARY KEY, template TEXT, language TEXT, tag TEXT, params TEXT, total INTEGER, created_at REAL);
"""

FTS_TRIGGER = """CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, body) VALUES (new.seq, new.body);
END"""
SCHEMA += FTS_TRIGGER + ";\n"

# A later status never goes back to an earlier one (webhooks arrive reordered, reference §5.2).
STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
SENT_LIKE = ("sent", "delivered", "read")


def fts_query(text: str) -> str:
    """Quote every word, so user text is matched literally, never parsed as FTS5 syntax."""
    words = [word.replace('"', '""') for word in text.split()]
    return " ".join(f'"{word}"' for word in words if word)


def open_connection(path: str | Path, *, bulk: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=30000")  # first: an HA pair opens the file from two processes
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across a process crash in WAL mode (only an OS crash can lose the last commits).
    conn.execute(f"PRAGMA synchronous={'OFF' if bulk else 'NORMAL'}")
    if bulk:
        conn.execute("PRAGMA cache_size=-262144")  # 256 MB of page cache: the FTS index merges in memory
    conn.executescript(SCHEMA)
    return conn


class Store:
    """All SQL of the vendor. Calls are short; a lock serialises the one connection between tasks and threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.conn = open_connection(path)
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self.conn.execute(sql, tuple(params)))

    # Contacts and conversations

    def ensure_conversation(
        self, conn: sqlite3.Connection, wa_id: str, at: float, name: str | None = None
    ) -> tuple[int, bool]:
        """The conversation id of ``wa_id`` and whether it was created now."""
        conn.execute("INSERT OR IGNORE INTO contacts(wa_id, name, created_at) VALUES (?, ?, ?)", (wa_id, name, at))
        cur = conn.execute(
            "INSERT OR IGNORE INTO conversations(wa_id, created_at, updated_at) VALUES (?, ?, ?)", (wa_id, at, at)
        )
        created = cur.rowcount == 1
        row = conn.execute("SELECT id FROM conversations WHERE wa_id = ?", (wa_id,)).fetchone()
        return int(row["id"]), created

    def add_tag(self, wa_id: str, tag: str, at: float) -> list[str]:
        with self.tx() as conn:
            conn.execute("INSERT OR IGNORE INTO contacts(wa_id, created_at) VALUES (?, ?)", (wa_id, at))
            conn.execute("INSERT OR IGNORE INTO contact_tags(wa_id, tag) VALUES (?, ?)", (wa_id, tag))
            rows = conn.execute("SELECT tag FROM contact_tags WHERE wa_id = ? ORDER BY tag", (wa_id,)).fetchall()
        return [str(row["tag"]) for row in rows]

    def assign(self, conversation_id: int, agent: str) -> bool:
        with self.tx() as conn:
            cur = conn.execute("UPDATE conversations SET agent = ? WHERE id = ?", (agent, conversation_id))
        return cur.rowcount == 1

    def agent_loads(self, agents: list[str]) -> dict[str, int]:
        loads = dict.fromkeys(agents, 0)
        for row in self.query("SELECT agent, COUNT(*) AS n FROM conversations WHERE agent IS NOT NULL GROUP BY agent"):
            if row["agent"] in loads:
                loads[row["agent"]] = int(row["n"])
        return loads

    def search_conversations(self, q: str, limit: int) -> tuple[list[dict[str, Any]], int]:
        columns = "c.id, c.wa_id, c.agent, c.created_at, c.updated_at, c.last_text"
        query = fts_query(q)
        if not query:
            rows = self.query(f"SELECT {columns} FROM conversations c ORDER BY c.updated_at DESC LIMIT ?", (limit,))
            total = self.query("SELECT COUNT(*) AS n FROM conversations")[0]["n"]
            return [dict(row) for row in rows], int(total)
        matching = (
            "SELECT DISTINCT m.conversation_id FROM messages_fts f JOIN messages m ON m.seq = f.rowid "
            "WHERE messages_fts MATCH ?"
        )
        rows = self.query(
            f"SELECT {columns} FROM conversations c WHERE c.id IN ({matching}) ORDER BY c.updated_at DESC LIMIT ?",
            (query, limit),
        )
        total = self.query(f"SELECT COUNT(*) AS n FROM ({matching})", (query,))[0]["n"]
        return [dict(row) for row in rows], int(total)

    # Messages

    def insert_outbound(
        self,
        conn: sqlite3.Connection,
        *,
        message_id: str,
        wa_id: str,
        kind: str,
        body: str,
        payload: dict[str, Any],
        at: float,
        broadcast_id: str | None = None,
    ) -> None:
        conversation_id, _ = self.ensure_conversation(conn, wa_id, at)
        conn.execute(
            "INSERT INTO messages(id, conversation_id, direction, wa_id, type, body, status, broadcast_id, payload,"
            " created_at) VALUES (?, ?, 'out', ?, ?, ?, 'queued', ?, ?, ?)",
            (message_id, conversation_id, wa_id, kind, body, broadcast_id, json.dumps(payload), at),
        )
        conn.execute(
            "UPDATE conversations SET updated_at = ?, last_text = ? WHERE id = ?", (at, body[:200], conversation_id)
        )

    def insert_inbound(
        self, *, message_id: str, wamid: str, wa_id: str, name: str | None, kind: str, body: str, at: float
    ) -> tuple[int, bool] | None:
        """Store one inbound message; None when its wamid was already stored (a replayed delivery)."""
        with self.tx() as conn:
            conversation_id, created = self.ensure_conversation(conn, wa_id, at, name)
            cur = conn.execute(
                "INSERT OR IGNORE INTO messages(id, conversation_id, direction, wa_id, type, body, wamid, status,"
                " created_at) VALUES (?, ?, 'in', ?, ?, ?, ?, 'received', ?)",
                (message_id, conversation_id, wa_id, kind, body, wamid, at),
            )
            if cur.rowcount == 0:
                return None
            conn.execute(
                "UPDATE conversations SET updated_at = ?, last_text = ? WHERE id = ?", (at, body[:200], conversation_id)
            )
        return conversation_id, created

    def insert_status(self, wamid: str, status: str, at: float, error: str | None) -> bool:
        """Store one status; False when this (wamid, status) was already stored."""
        with self.tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO statuses(wamid, status, at, error) VALUES (?, ?, ?, ?)",
                (wamid, status, at, error),
            )
            if cur.rowcount == 0:
                return False
            row = conn.execute("SELECT status FROM messages WHERE wamid = ?", (wamid,)).fetchone()
            if row is not None and STATUS_RANK.get(status, -1) > STATUS_RANK.get(row["status"], -1):
                conn.execute(
                    "UPDATE messages SET status = ?, error = COALESCE(?, error) WHERE wamid = ?", (status, error, wamid)
                )
        return True

    def message_payload(self, message_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT payload FROM messages WHERE id = ?", (message_id,))
        return json.loads(rows[0]["payload"]) if rows and rows[0]["payload"] else None

    def mark_sent(self, message_id: str, wamid: str, at: float, attempts: int) -> None:
        with self.tx() as conn:
            conn.execute(
                "UPDATE messages SET wamid = ?, sent_at = ?, attempts = ?,"
                " status = CASE WHEN status = 'queued' THEN 'sent' ELSE status END WHERE id = ?",
                (wamid, at, attempts, message_id),
            )

    def mark_failed(self, message_id: str, error: str, attempts: int) -> None:
        with self.tx() as conn:
            conn.execute(
                "UPDATE messages SET status = 'failed', error = ?, attempts = ? WHERE id = ?",
                (error, attempts, message_id),
            )

    def get_message(self, message_id: str) -> dict[str, Any] | None:
        rows = self.query(
            "SELECT id, status, wamid, direction, created_at, sent_at, error, attempts FROM messages WHERE id = ?",
            (message_id,),
        )
        return dict(rows[0]) if rows else None

    # Media and broadcasts

    def insert_media(self, media_id: str, mime: str, size: int, at: float) -> None:
        with self.tx() as conn:
            conn.execute("INSERT OR REPLACE INTO media VALUES (?, ?, ?, ?)", (media_id, mime, size, at))

    def tagged_contacts(self, tag: str) -> list[str]:
        return [
            str(row["wa_id"])
            for row in self.query("SELECT wa_id FROM contact_tags WHERE tag = ? ORDER BY wa_id", (tag,))
        ]

    def insert_broadcast(self, broadcast_id: str, body: dict[str, Any], total: int, at: float) -> None:
        with self.tx() as conn:
            conn.execute(
                "INSERT INTO broadcasts VALUES (?, ?, ?, ?, ?, ?, ?)",
                (broadcast_id, body["template"], body["language"], body["tag"], json.dumps(body["params"]), total, at),
            )

    def broadcast_progress(self, broadcast_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT total FROM broadcasts WHERE id = ?", (broadcast_id,))
        if not rows:
            return None
        total = int(rows[0]["total"])
        counts = {
            str(row["status"]): int(row["n"])
            for row in self.query(
                "SELECT status, COUNT(*) AS n FROM messages WHERE broadcast_id = ? GROUP BY status", (broadcast_id,)
            )
        }
        sent = sum(counts.get(status, 0) for status in SENT_LIKE)
        failed = counts.get("failed", 0)
        return {"id": broadcast_id, "total": total, "sent": sent, "failed": failed, "done": sent + failed >= total}
