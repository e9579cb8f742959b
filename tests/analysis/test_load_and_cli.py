"""Partial runs load and are marked; `scrmbench score` / `compare` exit codes and files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.load import load_run
from analysis.summary import build_summary
from ground.errors import AnalysisError
from harness.cli import main


def test_complete_run_is_not_partial(synthetic_run) -> None:
    run = load_run(synthetic_run(duration_s=60, fault_at_s=20, fault_s=5).path)
    assert run.partial is False
    assert len(run.requests) == 1200


def test_truncated_shard_missing_ledger_and_incomplete_manifest_load_as_partial(synthetic_run) -> None:
    built = synthetic_run(duration_s=60, fault_at_s=20, fault_s=5, complete=False)
    shard = sorted((built.path / "requests").glob("*.parquet"))[-1]
    shard.write_bytes(shard.read_bytes()[:200])  # a worker killed mid-write
    (built.path / "ledger.parquet").unlink()
    with (built.path / "faults.jsonl").open("a") as handle:
        handle.write('{"at": 1, "act')  # half a line
    run = load_run(built.path)
    assert run.partial
    text = " ".join(run.partial_reasons)
    assert "complete: false" in text and shard.name in text and "ledger.parquet missing" in text
    assert "faults.jsonl line 3" in text
    assert len(run.requests) == 600
    summary = build_summary(run)
    assert summary["run"]["partial"] is True
    assert summary["accounting"]["measured"] is False
    assert "accounting" in summary["unmeasured"]


def test_missing_manifest_is_inferred_and_empty_folder_refused(synthetic_run, tmp_path: Path) -> None:
    built = synthetic_run(duration_s=30, fault_at_s=10, fault_s=2)
    (built.path / "manifest.json").unlink()
    run = load_run(built.path)
    assert run.partial and run.manifest.scenario == "failover"
    (tmp_path / "empty").mkdir()
    with pytest.raises(AnalysisError):
        load_run(tmp_path / "empty")


def test_score_writes_summary_and_exits_by_verdict(synthetic_run, tmp_path: Path) -> None:
    bad = synthetic_run("bad", duration_s=60, fault_at_s=20, fault_s=5).path
    assert main(["score", str(bad), "--sla", "standard"]) == 1
    summary = json.loads((bad / "summary.json").read_text())
    assert summary["schema_version"] == 1 and summary["sla"]["verdict"] == "FAIL"
    assert (bad / "summary-requests.csv").read_text().startswith("operation,")
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text("name: lenient\ncriteria:\n  - {metric: latency_ms, aggregation: p50, target: 60000}\n")
    assert main(["score", str(bad), "--sla", str(lenient)]) == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\ncriteria:\n  - {metric: latency_ms, aggregation: p101, target: 1}\n")
    assert main(["score", str(bad), "--sla", str(broken)]) == 2
    assert main(["score", str(tmp_path / "nowhere")]) == 2  # a wrong path is bad input, not a harness failure


def test_compare_writes_comparison(synthetic_run, tmp_path: Path) -> None:
    runs = [str(synthetic_run(f"r{i}", duration_s=30, fault_at_s=10, fault_s=2, seed=i).path) for i in range(2)]
    out = tmp_path / "cmp.json"
    assert main(["compare", *runs, "--sla", "standard", "-o", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["kind"] == "scrmbench.comparison"
    (group,) = result["groups"]
    assert group["ranking"][0]["vendor"] == "synthetic"
    assert group["cost"] == [] and group["vendors"][0]["cost"]["status"] in (
        "priced",
        "partly_priced",
        "unpriced",
        "not_measured",
    )
    assert main(["compare", runs[0]]) == 2


def test_compare_refuses_a_missing_rate_card_before_loading_runs(tmp_path: Path) -> None:
    runs = [str(tmp_path / "a"), str(tmp_path / "b")]
    assert main(["compare", *runs, "--rate-card", str(tmp_path / "nope.yaml")]) == 2


def test_reading_only_the_analysis_columns_gives_the_same_summary(synthetic_run) -> None:
    from analysis.load import ANALYSIS_COLUMNS
    from analysis.sla import load_preset

    path = synthetic_run(duration_s=60, fault_at_s=20, fault_s=5).path
    full = build_summary(load_run(path), sla=load_preset("standard"))
    lean_run = load_run(path, columns=ANALYSIS_COLUMNS)
    assert list(lean_run.requests.columns) == list(ANALYSIS_COLUMNS)
    assert build_summary(lean_run, sla=load_preset("standard")) == full


def test_text_columns_load_as_categoricals_and_score_as_plain_text_does(synthetic_run) -> None:
    from analysis.load import CATEGORICAL_COLUMNS
    from analysis.sla import load_preset

    path = synthetic_run(duration_s=60, fault_at_s=20, fault_s=5).path
    run = load_run(path)
    assert isinstance(run.requests["outcome"].dtype, pd.CategoricalDtype)
    assert isinstance(run.ledger["direction"].dtype, pd.CategoricalDtype)
    categorical = build_summary(run, sla=load_preset("standard"))
    # The same frames with every categorical column as plain text take the helpers' other path.
    for frame in (run.requests, run.ledger):
        for name in CATEGORICAL_COLUMNS & set(frame.columns):
            frame[name] = frame[name].astype(object).astype("str")
    assert not isinstance(run.requests["outcome"].dtype, pd.CategoricalDtype)
    assert build_summary(run, sla=load_preset("standard")) == categorical


def test_a_run_with_only_a_manifest_scores_as_incomplete_with_a_reason(tmp_path: Path) -> None:
    from ground.records import RunManifest

    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "manifest.json").write_text(RunManifest(run_id="r", scenario="peak", started_at=1.0).model_dump_json())
    assert main(["score", str(folder), "--sla", "standard"]) == 4  # partial: exit 4 whatever the verdict
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["run"]["partial"] is True
    assert summary["sla"]["verdict"] == "INCOMPLETE"  # cut short before it recorded anything: not a failure
    assert summary["sla"]["score"] is None
    assert summary["sla"]["reasons"][1:] == ["no criterion could be measured in this run"]


def test_recovery_windows_from_the_scenario_and_the_cli(synthetic_run) -> None:
    from analysis.summary import AnalysisOptions

    built = synthetic_run(duration_s=40, fault_at_s=10, fault_s=5)
    manifest = json.loads((built.path / "manifest.json").read_text())
    manifest["scenario_params"] = {"recovery_short_window_s": 2, "recovery_confirm_s": 5}
    (built.path / "manifest.json").write_text(json.dumps(manifest))
    run = load_run(built.path)
    params = build_summary(run)["recovery"]["params"]
    assert (params["short_window_s"], params["confirm_window_s"]) == (2.0, 5.0)
    cli = AnalysisOptions(recovery_overrides={"confirm_window_s": 1.0})
    params = build_summary(run, options=cli)["recovery"]["params"]
    assert (params["short_window_s"], params["confirm_window_s"]) == (2.0, 1.0)
    assert main(["score", str(built.path), "--sla", "standard", "--recovery-confirm", "3"]) in (0, 1)
    assert json.loads((built.path / "summary.json").read_text())["recovery"]["params"]["confirm_window_s"] == 3.0
