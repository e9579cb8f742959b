"""The pytest gate never passes a run that did not complete, even with a PASS verdict in its summary."""

from __future__ import annotations

from pathlib import Path

from analysis.load import load_run
from analysis.sla import SlaSpec
from analysis.summary import build_summary
from harness.pytest_plugin import SlaResult

LENIENT = SlaSpec.model_validate(
    {"name": "lenient", "criteria": [{"metric": "latency_ms", "aggregation": "p50", "target": 60000}]}
)


def test_partial_run_is_not_passed(synthetic_run) -> None:
    whole = synthetic_run("whole", duration_s=30, fault_at_s=10, fault_s=2).path
    result = SlaResult.from_summary(build_summary(load_run(whole), sla=LENIENT), whole)
    assert (result.verdict, result.partial, result.passed) == ("PASS", False, True)

    cut = synthetic_run("cut", duration_s=30, fault_at_s=10, fault_s=2, complete=False).path
    summary = build_summary(load_run(cut), sla=LENIENT)
    result = SlaResult.from_summary(summary, cut)
    assert (result.verdict, result.partial, result.passed) == ("INCOMPLETE", True, False)
    assert result.failing[0].startswith("run is partial: the run did not complete")
    # Even a summary written before partial runs were refused (verdict PASS) does not pass the gate.
    summary["sla"]["verdict"] = "PASS"
    assert SlaResult.from_summary(summary, cut).passed is False
    assert "run is partial" in repr(SlaResult.from_summary(summary, cut))


def test_a_summary_without_a_run_section_is_not_passed(tmp_path: Path) -> None:
    result = SlaResult.from_summary({"sla": {"verdict": "PASS", "score": 100.0}}, tmp_path)
    assert result.passed is False
