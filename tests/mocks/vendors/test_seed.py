"""Seeding: N conversations in bulk, searchable through the FTS index, deterministic per seed."""

from __future__ import annotations

import sqlite3

from harness.cli import main
from mocks.vendors.seed import seed_database
from mocks.vendors.storage import Store


def counts(path) -> tuple[int, int, int]:
    conn = sqlite3.connect(path)
    try:
        return tuple(
            conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("contacts", "conversations", "messages")
        )  # type: ignore[return-value]
    finally:
        conn.close()


def test_seed_writes_conversations_messages_and_a_searchable_index(tmp_path):
    path = tmp_path / "seed.sqlite3"
    report = seed_database(path, 1_000, messages_per_conversation=3, tag="vip", seed=1, batch=300)
    assert (report.conversations, report.messages) == (1_000, 3_000)
    assert counts(path) == (1_000, 1_000, 3_000)
    assert report.rows == 1_000 + 1_000 + 3_000 + 1_000
    store = Store(path)
    try:
        items, total = store.search_conversations("discount", 5)
        assert 0 < total < 1_000 and len(items) == 5
        assert len(store.tagged_contacts("vip")) == 1_000
        # The bulk path put the per-row trigger back: a live write after seeding is searchable at once.
        with store.tx() as conn:
            store.insert_outbound(
                conn,
                message_id="msg_live",
                wa_id="4915199999999",
                kind="text",
                body="zebracrossing",
                payload={},
                at=1.0,
            )
        assert store.search_conversations("zebracrossing", 5)[1] == 1
    finally:
        store.close()


def test_seeding_appends_and_the_same_seed_gives_the_same_rows(tmp_path):
    a, b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    seed_database(a, 200, seed=5)
    seed_database(b, 200, seed=5)
    query = "SELECT body FROM messages ORDER BY seq"
    assert sqlite3.connect(a).execute(query).fetchall() == sqlite3.connect(b).execute(query).fetchall()
    seed_database(a, 50, seed=6)
    assert counts(a)[1] == 250


def test_seed_command(tmp_path, capsys):
    path = tmp_path / "cli.sqlite3"
    assert main(["vendor", "seed", "--conversations", "300", "--db", str(path)]) == 0
    assert "seeded 300 conversations" in capsys.readouterr().out
    assert counts(path)[1] == 300


def test_vendor_commands_reject_bad_input_with_exit_2(tmp_path, capsys):
    assert main(["vendor", "serve", "reference", "--profile", "nope", "--db", str(tmp_path / "x.db")]) == 2
    assert "unknown reference vendor profile" in capsys.readouterr().err
    assert main(["vendor", "serve", "reference", "--set", "workers=0", "--db", str(tmp_path / "x.db")]) == 2
    assert main(["vendor", "serve", "reference", "--host", "0.0.0.0", "--db", str(tmp_path / "x.db")]) == 2
    assert "loopback" in capsys.readouterr().err
    assert main(["vendor", "serve", "ha-pair", "--profile", "steady"]) == 2


# RFC 5737 TEST-NET-1: never routed. ``_serve`` is replaced, so nothing binds any address at all.
FAR_HOST = "192.0.2.10"


def test_allow_non_loopback_warns_that_the_vendor_is_reachable_from_other_hosts(tmp_path, monkeypatch, caplog):
    served: list[tuple[str, int]] = []
    monkeypatch.setattr("harness.commands.vendor._serve", lambda app, host, port: served.append((host, port)))
    db = str(tmp_path / "x.db")
    base = ["vendor", "serve", "reference", "--db", db, "--port", "8911"]
    assert main([*base, "--host", FAR_HOST, "--allow-non-loopback"]) == 0
    assert served == [(FAR_HOST, 8911)]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [f"binding {FAR_HOST}: the reference vendor is reachable from other hosts"]

    caplog.clear()
    front = ["vendor", "serve", "front", "--backend", "http://127.0.0.1:1", "--backend", "http://127.0.0.1:2"]
    assert main([*front, "--host", FAR_HOST, "--allow-non-loopback"]) == 0
    assert served[-1][0] == FAR_HOST
    assert any("reachable from other hosts" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")

    caplog.clear()
    assert main(base) == 0  # the default loopback bind: no warning
    assert served[-1] == ("127.0.0.1", 8911)
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_a_far_vendor_host_without_the_flag_never_reaches_the_server(tmp_path, monkeypatch, capsys):
    served: list[str] = []
    monkeypatch.setattr("harness.commands.vendor._serve", lambda app, host, port: served.append(host))
    front = ["vendor", "serve", "front", "--backend", "http://127.0.0.1:1", "--backend", "http://127.0.0.1:2"]
    assert main([*front, "--host", FAR_HOST]) == 2
    assert served == [] and "--allow-non-loopback" in capsys.readouterr().err
