"""When the mock dropped older webhook attempt records (counted in webhooks.parquet's schema metadata), the webhook
acknowledgement figures say they cover only the attempts after ``evicted_until``: in summary.json's webhooks
section and in the SLA criteria's wording. Never silently."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from analysis.load import WEBHOOK_EVICTED_KEY, WEBHOOK_EVICTED_UNTIL_KEY, load_run
from analysis.summary import build_summary
from harness.cli import main
from mocks.whatsapp.webhooks.attempts import EVICTED_KEY, EVICTED_UNTIL_KEY

SLA = """name: webhooks only
criteria:
  - {metric: webhook_ack_ms, aggregation: p50, target: 60000}
  - {metric: webhook_ack_over_1s_share, target: 1.0}
"""


def _mark_evicted(folder: Path, evicted: int, until: float | None) -> None:
    """Rewrite the run's webhooks.parquet as the mock exports it after dropping ``evicted`` older records."""
    path = folder / "webhooks.parquet"
    table = pq.read_table(path)
    metadata = {EVICTED_KEY: str(evicted).encode(), EVICTED_UNTIL_KEY: b"" if until is None else repr(until).encode()}
    pq.write_table(table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata}), path)


def test_the_analysis_reads_the_keys_the_mock_writes() -> None:
    assert (WEBHOOK_EVICTED_KEY, WEBHOOK_EVICTED_UNTIL_KEY) == (EVICTED_KEY, EVICTED_UNTIL_KEY)


def test_evicted_attempts_are_named_in_the_summary_and_the_criteria(synthetic_run, tmp_path: Path) -> None:
    built = synthetic_run(duration_s=60, fault_at_s=20, fault_s=5)
    sent = pq.read_table(built.path / "webhooks.parquet").column("sent_at").to_pylist()
    until = sorted(sent)[len(sent) // 2]
    _mark_evicted(built.path, 12_345, until)

    run = load_run(built.path)
    assert (run.webhooks_evicted, run.webhooks_evicted_until) == (12_345, until)
    webhooks = build_summary(run)["webhooks"]
    when = datetime.fromtimestamp(until, UTC).isoformat(timespec="milliseconds")
    assert webhooks["coverage"]["evicted_attempts"] == 12_345 and webhooks["coverage"]["evicted_until"] == until
    assert f"covers only the webhook attempts sent after {when}" in webhooks["coverage"]["note"]
    assert "12,345" in webhooks["coverage"]["note"]
    assert webhooks["label"].startswith("webhook acknowledgement latency, covers only") and when in webhooks["label"]
    assert webhooks["attempts"] == len(sent)  # the figures themselves are of what was kept

    sla = tmp_path / "webhooks.yaml"
    sla.write_text(SLA)
    main(["score", str(built.path), "--sla", str(sla)])
    written = json.loads((built.path / "summary.json").read_text())
    assert written["webhooks"]["coverage"]["note"] == webhooks["coverage"]["note"]
    criteria = {row["metric"]: row for row in written["sla"]["criteria"]}
    for metric in ("webhook_ack_ms", "webhook_ack_over_1s_share"):
        assert when in criteria[metric]["detail"] and when in criteria[metric]["reason"], criteria[metric]


def test_complete_attempts_carry_no_coverage_note(synthetic_run) -> None:
    built = synthetic_run(duration_s=60, fault_at_s=20, fault_s=5)
    _mark_evicted(built.path, 0, None)  # what the mock writes when it dropped nothing
    run = load_run(built.path)
    assert run.webhooks_evicted == 0 and run.webhooks_evicted_until is None
    webhooks = build_summary(run)["webhooks"]
    assert "coverage" not in webhooks and "label" not in webhooks and webhooks["attempts"] > 0


def test_an_unknown_eviction_time_is_still_said(synthetic_run) -> None:
    built = synthetic_run(duration_s=60, fault_at_s=20, fault_s=5)
    _mark_evicted(built.path, 3, None)
    webhooks = build_summary(load_run(built.path))["webhooks"]
    assert "after an unknown time" in webhooks["coverage"]["note"] and webhooks["coverage"]["evicted_until"] is None
