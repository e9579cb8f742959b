"""The runner scores a finished run into the same files as ``scrmbench score``: one export function, no copy."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from analysis.exports import write_exports
from analysis.synthetic import write_synthetic_run
from harness.run import runner

EXPORTS = (
    "summary.json",
    "summary-requests.csv",
    "summary-criteria.csv",
    "summary-accounting.csv",
    "summary-recovery.csv",
)


def test_runner_writes_every_export_score_writes(tmp_path: Path) -> None:
    # A run with a fault and a ledger: every table has rows, so every file must be written.
    by_runner, by_score = tmp_path / "runner", tmp_path / "score"
    for folder in (by_runner, by_score):
        write_synthetic_run(folder, duration_s=150, rate=4, fault_s=5, lost=2, inbound=10, seed=3)
    summary, _met = runner.score(by_runner, "standard")
    assert summary is not None
    write_exports(by_score, summary)
    for name in EXPORTS:
        assert (by_runner / name).is_file(), f"the runner did not write {name}"
        if name.endswith(".csv"):
            assert (by_runner / name).read_text(encoding="utf-8") == (by_score / name).read_text(encoding="utf-8")
    accounting = next(csv.DictReader((by_runner / "summary-accounting.csv").open(encoding="utf-8")))
    assert accounting["lost"] == "2"
    recovery = list(csv.DictReader((by_runner / "summary-recovery.csv").open(encoding="utf-8")))
    assert len(recovery) == 1 and recovery[0]["fault"]
    assert json.loads((by_runner / "summary.json").read_text(encoding="utf-8"))["sla"]["name"] == "standard"
