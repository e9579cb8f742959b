"""`scrmbench score`: partial and undecided runs never exit 0, the SLA fallback is said out loud, and the
accounting and recovery tables are written as CSV beside summary.json."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from analysis.synthetic import manifest_json
from ground.errors import EXIT_INCONCLUSIVE, EXIT_OK, EXIT_PARTIAL, EXIT_SLA_FAILED
from harness.cli import main

LENIENT = "name: lenient\ncriteria:\n  - {metric: latency_ms, aggregation: p50, target: 60000}\n"
UNDECIDABLE = (
    "name: greedy\ncriteria:\n  - {metric: latency_ms, aggregation: p50, target: 60000, min_samples: 1000000}\n"
)


def _sla(tmp_path: Path, text: str) -> str:
    path = tmp_path / "sla.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _set_manifest(folder: Path, **fields: object) -> None:
    manifest = manifest_json(folder)
    manifest.update(fields)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_a_partial_run_never_exits_0_and_never_passes(synthetic_run, tmp_path: Path) -> None:
    sla = _sla(tmp_path, LENIENT)
    complete = synthetic_run("whole", duration_s=30, fault_at_s=10, fault_s=2).path
    assert main(["score", str(complete), "--sla", sla]) == EXIT_OK
    cut = synthetic_run("cut", duration_s=30, fault_at_s=10, fault_s=2, complete=False).path
    assert main(["score", str(cut), "--sla", sla]) == EXIT_PARTIAL
    summary = json.loads((cut / "summary.json").read_text())
    assert (summary["sla"]["verdict"], summary["sla"]["met"]) == ("INCOMPLETE", False)
    assert summary["sla"]["reasons"][0].startswith("run is partial (the run did not complete")
    # --allow-conditional does not let a partial run through either.
    assert main(["score", str(cut), "--sla", sla, "--allow-conditional"]) == EXIT_PARTIAL


def test_an_undecided_sla_exits_5_not_0_and_not_1(synthetic_run, tmp_path: Path) -> None:
    run = synthetic_run("short", duration_s=30, fault_at_s=10, fault_s=2).path
    assert main(["score", str(run), "--sla", _sla(tmp_path, UNDECIDABLE)]) == EXIT_INCONCLUSIVE
    sla = json.loads((run / "summary.json").read_text())["sla"]
    assert sla["verdict"] == "INCONCLUSIVE"
    assert sla["reasons"][0].startswith("inconclusive: needs more runs/samples")
    assert main(["score", str(run), "--sla", "standard"]) == EXIT_SLA_FAILED  # it lost messages: a real FAIL


def test_refused_recorded_parameters_are_dropped_and_named(synthetic_run) -> None:
    run = synthetic_run("old", duration_s=30, fault_at_s=10, fault_s=2).path
    # Recorded by an older version with a parameter media-burst no longer has.
    _set_manifest(run, scenario="media-burst", scenario_params={"legacy_knob": 3, "uploads": 60, "rate": 6.0})
    main(["score", str(run)])
    sla = json.loads((run / "summary.json").read_text())["sla"]
    assert sla["source"] == "scenario:media-burst"
    (note,) = sla["notes"]
    assert note.startswith("the media-burst scenario refuses its recorded parameter legacy_knob=3")


def test_recorded_shared_parameters_the_scenario_does_not_use_are_not_refused(synthetic_run) -> None:
    # A run records every shared field with its value (duration_s too, though media-burst's length is uploads ÷
    # rate): what a user may not pass is still what the run recorded, so scoring it raises no note.
    run = synthetic_run("fresh", duration_s=30, fault_at_s=10, fault_s=2).path
    _set_manifest(run, scenario="media-burst", scenario_params={"duration_s": 60.0, "uploads": 60, "rate": 6.0})
    main(["score", str(run)])
    sla = json.loads((run / "summary.json").read_text())["sla"]
    assert sla["source"] == "scenario:media-burst" and sla["notes"] == []


def test_the_standard_fallback_is_never_silent(synthetic_run, capsys) -> None:
    run = synthetic_run("odd", duration_s=30, fault_at_s=10, fault_s=2).path
    _set_manifest(run, scenario="no-such-scenario")
    main(["score", str(run)])
    sla = json.loads((run / "summary.json").read_text())["sla"]
    assert sla["source"] == "preset:standard"
    (note,) = sla["notes"]
    assert "no-such-scenario scenario's own criteria could not be built" in note
    assert "scored with the standard preset instead" in note
    assert "scored with the standard preset instead" in " ".join(capsys.readouterr().out.split())


def test_accounting_and_recovery_csvs(synthetic_run) -> None:
    built = synthetic_run("csv", duration_s=30, fault_at_s=10, fault_s=2, lost=3)
    main(["score", str(built.path), "--sla", "standard"])
    summary = json.loads((built.path / "summary.json").read_text())
    with (built.path / "summary-accounting.csv").open(encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert int(row["lost"]) == built.lost == summary["accounting"]["lost"]
    assert int(row["acked"]) == built.acked
    assert float(row["delivery_p95_ms"]) == summary["accounting"]["delivery_latency_ms"]["p95"]
    with (built.path / "summary-recovery.csv").open(encoding="utf-8") as handle:
        (fault,) = list(csv.DictReader(handle))
    (expected,) = summary["recovery"]["faults"]
    assert fault["fault_id"] == "f1"
    assert float(fault["injected_s"]) == expected["injected_s"]
    assert fault["ttr_sustained_s"] == ("" if expected["ttr_sustained_s"] is None else str(expected["ttr_sustained_s"]))
