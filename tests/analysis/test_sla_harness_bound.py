"""Harness-bound and cut-short figures are never a vendor's failure; counted facts stay facts (issue 15 §1–2).

Synthetic runs (analysis.synthetic) with synthetic health samples, scored by the real analysis: a saturated load
generator makes a failing latency inconclusive with the harness-bound reason first, a lost message still fails,
a healthy health frame changes nothing, a cut-short capacity run is INCOMPLETE, and the vendor-CPU figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.load import load_run
from analysis.sla import SlaSpec, load_sla
from analysis.summary import build_summary
from analysis.synthetic import synthetic_health, write_health, write_synthetic_run
from ground.errors import EXIT_INCONCLUSIVE, EXIT_SLA_FAILED, ConfigError
from ground.records import LEDGER_SCHEMA, REQUEST_SCHEMA, RunManifest
from harness.cli import main
from tests.analysis import frames as f

SATURATED = {"saturated": "generator", "saturated_at_s": (10, 47)}  # 37 of the run's ~100 seconds
LATENCY_AND_LOSS = [
    {"id": "api-p95", "metric": "latency_ms", "aggregation": "p95", "target": 500, "critical": True},
    {"id": "lost", "metric": "lost_messages", "target": 0, "critical": True},
]


def _spec(criteria: list[dict[str, Any]]) -> SlaSpec:
    return SlaSpec.model_validate({"name": "t", "criteria": criteria})


def _run(root: Path, name: str, *, health: dict[str, Any] | None, **kwargs: Any) -> Path:
    params = {"duration_s": 100, "rate": 20, "fault_s": 0, "lost": 0, "duplicated": 0, **kwargs}
    run = write_synthetic_run(root / name, **params)
    if health is not None:
        write_health(run.path, synthetic_health(duration_s=100, **health))
    return run.path


def _sla(path: Path, criteria: list[dict[str, Any]]) -> dict[str, Any]:
    return build_summary(load_run(path), sla=_spec(criteria))["sla"]


def test_a_saturated_generator_makes_a_failing_latency_inconclusive_never_fail(tmp_path: Path) -> None:
    slow = {"base_ms": 900, "drift_ms": 100}
    unwatched = _sla(_run(tmp_path, "unwatched", health=None, **slow), LATENCY_AND_LOSS)
    assert unwatched["verdict"] == "FAIL"  # without health data: not measured, never harness-bound

    sla = _sla(_run(tmp_path, "saturated", health=SATURATED, **slow), LATENCY_AND_LOSS)
    assert (sla["verdict"], sla["met"], sla["harness_bound"]) == ("INCONCLUSIVE", False, True)
    # 37 of the load window's 102 seconds (the last request ends 1.1 s after the last slot)
    assert sla["reasons"][0].startswith(
        "harness-bound: the load generator was saturated for 36.3% of the run (CPU 100%, loop lag p95 180 ms"
    )
    assert sla["reasons"][0].endswith(
        "run fewer trials at once, add `--workers`, or use a bigger machine (README: Distributed runs)"
    )
    latency, lost = sla["criteria"]
    assert (latency["status"], latency["status_as_measured"], latency["set_aside"]) == (
        "inconclusive",
        "fail",
        "harness_bound",
    )
    assert latency["points"] is None
    assert "inconclusive (harness-bound: the load generator was saturated" in latency["reason"]
    assert (lost["status"], lost["set_aside"], lost["counted"]) == ("pass", None, True)  # a counted fact stands


def test_score_exits_5_for_a_harness_bound_run(tmp_path: Path) -> None:
    path = _run(tmp_path, "saturated", health=SATURATED, base_ms=900)
    sla_file = tmp_path / "sla.yaml"
    sla_file.write_text(
        "name: t\ncriteria:\n  - {metric: latency_ms, aggregation: p95, target: 500, critical: true}\n",
        encoding="utf-8",
    )
    assert main(["score", str(path), "--sla", str(sla_file)]) == EXIT_INCONCLUSIVE
    summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    assert summary["harness"]["bound"] is True
    assert summary["sla"]["reasons"][0] == summary["harness"]["reason"]


def test_lost_messages_still_fail_under_saturation(tmp_path: Path) -> None:
    sla = _sla(_run(tmp_path, "lossy", health=SATURATED, lost=5, base_ms=900), LATENCY_AND_LOSS)
    assert (sla["verdict"], sla["critical_failures"]) == ("FAIL", ["lost"])
    assert sla["reasons"][0].startswith("CRITICAL: lost messages was 5")
    assert sla["criteria"][0]["status"] == "inconclusive"  # the latency is still set aside


def test_a_healthy_health_frame_changes_nothing(tmp_path: Path) -> None:
    params = {"lost": 3, "duplicated": 2, "fault_at_s": 40, "fault_s": 10, "base_ms": 300}
    without = build_summary(load_run(_run(tmp_path, "a", health=None, **params)), sla=_preset())
    healthy = build_summary(load_run(_run(tmp_path, "b", health={}, **params)), sla=_preset())
    assert healthy["harness"]["measured"] is True and healthy["harness"]["bound"] is False
    assert without["harness"]["measured"] is False
    for key in set(without) - {"harness", "run"}:
        assert healthy[key] == without[key], key
    assert without["sla"]["verdict"] == "FAIL"


def _preset() -> SlaSpec:
    from analysis.sla import load_preset

    return load_preset("standard")


def _write(folder: Path, rows: list[dict[str, Any]], arrivals: list[dict[str, Any]], **manifest: Any) -> Path:
    (folder / "requests").mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(f.requests(rows), schema=REQUEST_SCHEMA, preserve_index=False)
    pq.write_table(table, folder / "requests" / "w0.parquet")
    ledger = pa.Table.from_pandas(f.ledger(arrivals), schema=LEDGER_SCHEMA, preserve_index=False)
    pq.write_table(ledger, folder / "ledger.parquet")
    fields = {"run_id": folder.name, "scenario": "capacity", "started_at": f.T0, "complete": True, **manifest}
    (folder / "manifest.json").write_text(RunManifest(**fields).model_dump_json(), encoding="utf-8")
    return folder


def test_failing_samples_in_harness_bound_seconds_are_set_aside(tmp_path: Path) -> None:
    """Saturated for 4 s of 100 (under the 5% that binds the run), but every slow request fell in them."""
    rows = [f.request(i / 20, 3000.0 if 50 <= i / 20 < 54 else 50.0, correlation_id=f"m{i}") for i in range(2000)]
    arrivals = [f.arrival(f"m{i}", i / 20 + 0.1) for i in range(2000)]
    criteria = [{"metric": "latency_ms", "aggregation": "p99", "target": 500, "critical": True}]
    spike = _write(tmp_path / "spike", rows, arrivals)
    write_health(spike, synthetic_health(t0=f.T0, duration_s=100, saturated="generator", saturated_at_s=(50, 54)))
    sla = _sla(spike, criteria)
    (row,) = sla["criteria"]
    assert (sla["verdict"], row["status"], row["status_as_measured"]) == ("INCONCLUSIVE", "inconclusive", "fail")
    assert sla["reasons"][0].startswith(
        "harness-bound: 100% of the samples missing the target fall in the 4 s the load generator was saturated"
    )
    summary = build_summary(load_run(spike), sla=_spec(criteria))
    assert summary["harness"]["bound"] is False and summary["harness"]["bound_seconds"] == 4
    # The same slow seconds while the generator was saturated at another time: the vendor's own failure.
    elsewhere = _write(tmp_path / "elsewhere", rows, arrivals)
    write_health(elsewhere, synthetic_health(t0=f.T0, duration_s=100, saturated="generator", saturated_at_s=(80, 84)))
    assert _sla(elsewhere, criteria)["verdict"] == "FAIL"


def _capacity_rows(seconds: int, rate: int) -> list[dict[str, Any]]:
    return [f.request(i / rate, 40.0, correlation_id=f"m{i}") for i in range(seconds * rate)]


CAPACITY = [{"id": "capacity", "metric": "capacity_practical_rps", "target": 20, "weight": 3}]


def test_a_partial_capacity_run_is_incomplete_not_failed(tmp_path: Path) -> None:
    rows = _capacity_rows(3, 3)  # killed 3 s into the load, at 3 requests a second
    arrivals = [f.arrival(f"m{i}", i / 3 + 0.1) for i in range(9)]
    params = {"scenario_params": {"step_s": 3}}
    whole = _sla(_write(tmp_path / "whole", rows, arrivals, **params), CAPACITY)
    assert whole["verdict"] == "FAIL"  # had it run to the end, 3/s against ≥ 20/s would be the vendor's
    cut = _sla(_write(tmp_path / "cut", rows, arrivals, complete=False, **params), CAPACITY)
    assert (cut["verdict"], cut["met"]) == ("INCOMPLETE", False)
    assert cut["reasons"][0].startswith("run is partial (the run did not complete")
    (row,) = cut["criteria"]
    assert (row["status"], row["status_as_measured"], row["set_aside"]) == ("inconclusive", "fail", "cut_short")
    assert row["reason"].startswith(
        "practical capacity 3/s, target ≥ 20/s: inconclusive (cut short: the run did not complete (manifest says "
        "complete: false); a figure the cut could have spoiled is not held against the vendor)"
    )
    assert not any(reason.startswith("inconclusive: needs more") for reason in cut["reasons"])


def test_a_partial_run_with_lost_acknowledged_messages_fails(tmp_path: Path) -> None:
    rows = _capacity_rows(3, 3)
    arrivals = [f.arrival(f"m{i}", i / 3 + 0.1) for i in range(9) if i != 4]  # m4 acknowledged, never delivered
    criteria = [*CAPACITY, {"id": "lost", "metric": "lost_messages", "target": 0, "critical": True}]
    sla = _sla(_write(tmp_path / "cut", rows, arrivals, complete=False, scenario_params={"step_s": 3}), criteria)
    assert (sla["verdict"], sla["critical_failures"]) == ("FAIL", ["lost"])
    assert [r["status"] for r in sla["criteria"]] == ["inconclusive", "fail"]


VENDOR_CPU = {"vendor_busy": (20, 40, 95.0)}  # 40% of a core, 95% from 20 s to 40 s


def test_vendor_cpu_pct(tmp_path: Path) -> None:
    path = _run(tmp_path, "busy", health=VENDOR_CPU)
    criteria = [
        {"id": "cpu-p95", "metric": "vendor_cpu_pct", "aggregation": "p95", "target": 80},
        {"id": "cpu-p50", "metric": "vendor_cpu_pct", "aggregation": "p50", "target": 80},
        {"id": "cpu-max", "metric": "vendor_cpu_pct", "aggregation": "max", "target": 100},
    ]
    p95, p50, peak = _sla(path, criteria)["criteria"]
    assert (p95["measured"], p95["status"], p95["unit"], p95["samples"]) == (95.0, "fail", "%", 100)
    assert p95["reason"] == "p95 vendor CPU was 95%, target ≤ 80%; worst at minute 1: 95%"
    assert (p50["measured"], p50["status"]) == (40.0, "pass")
    assert (peak["measured"], peak["status"]) == (95.0, "pass")
    saas = _sla(_run(tmp_path, "saas", health={"vendor_cpu_pct": None}), criteria[:1])["criteria"][0]
    assert saas["status"] == "not_applicable"
    assert "not measured: no candidate process was watched" in saas["reason"]
    unwatched = _sla(_run(tmp_path, "unwatched", health=None), criteria[:1])["criteria"][0]
    assert unwatched["status"] == "not_applicable" and "no health data" in unwatched["reason"]


def test_delivery_rate_while_the_vendor_cpu_is_high(tmp_path: Path) -> None:
    """Market figure #10: 95% delivery at 85% CPU. The 30 lost messages were sent in the vendor's busy 20 s."""
    path = _run(tmp_path, "busy", health=VENDOR_CPU, lost=30, fault_at_s=40)
    criteria = [
        {"id": "busy", "metric": "delivery_rate", "target": 0.95, "scope": {"when_vendor_cpu_at_least": 85}},
        {"id": "overall", "metric": "delivery_rate", "target": 0.95},
        {"id": "never", "metric": "delivery_rate", "target": 0.95, "scope": {"when_vendor_cpu_at_least": 99}},
        {"id": "errors", "metric": "error_rate", "target": 0.01, "scope": {"when_vendor_cpu_at_least": 85}},
    ]
    busy, overall, never, errors = _sla(path, criteria)["criteria"]
    assert (busy["measured"], busy["samples"], busy["status"]) == (pytest.approx(370 / 400), 400, "fail")
    assert busy["detail"] == "370 of 400 delivered, in the 20 s the vendor's CPU was ≥ 85%"
    assert busy["scope"] == {"when_vendor_cpu_at_least": 85.0}
    assert (overall["measured"], overall["status"]) == (pytest.approx(1970 / 2000), "pass")
    assert never["status"] == "not_applicable"
    assert never["reason"].endswith("not measured: the vendor's CPU never reached 99% (peak 95%)")
    assert (errors["measured"], errors["samples"], errors["status"]) == (0.0, 400, "pass")
    saas = _sla(_run(tmp_path, "saas", health={"vendor_cpu_pct": None}), criteria[:1])["criteria"][0]
    assert saas["status"] == "not_applicable" and "vendor CPU not measured" in saas["reason"]


@pytest.mark.parametrize(
    ("criterion", "field", "words"),
    [
        (
            "{metric: latency_ms, target: 500, scope: {when_vendor_cpu_at_least: 85}}",
            "criteria.0",
            "latency_ms cannot be restricted so: use one of error_rate, availability, delivery_rate",
        ),
        (
            "{metric: delivery_rate, target: 0.95, scope: {when_vendor_cpu_at_least: -5}}",
            "criteria.0.scope",
            "greater than 0",
        ),
        (
            "{metric: delivery_rate, target: 0.95, scope: {when_vendor_cpu_at_least: lots}}",
            "criteria.0.scope",
            "",
        ),
    ],
)
def test_the_vendor_cpu_scope_is_checked_at_the_edge(tmp_path: Path, criterion: str, field: str, words: str) -> None:
    path = tmp_path / "sla.yaml"
    path.write_text(f"name: x\ncriteria:\n  - {criterion}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_sla(path)
    assert f"field '{field}" in str(info.value) and words in str(info.value)


def test_the_vendor_cpu_scope_names_the_criterion() -> None:
    spec = _spec([{"metric": "delivery_rate", "target": 0.95, "scope": {"when_vendor_cpu_at_least": 85}}])
    assert spec.criteria[0].id == "delivery_rate.value.cpu85"


def test_the_score_cli_still_fails_a_real_failure_with_health(tmp_path: Path) -> None:
    path = _run(tmp_path, "slow", health={}, base_ms=900)
    sla_file = tmp_path / "sla.yaml"
    sla_file.write_text("name: t\ncriteria:\n  - {metric: latency_ms, aggregation: p95, target: 500}\n")
    assert main(["score", str(path), "--sla", str(sla_file)]) == EXIT_SLA_FAILED
