"""analysis.harness_health: which seconds of the load window were harness-bound, by which rule, and the reason in
words; reading health.parquet and its shards (analysis.load)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.harness_health import HealthThresholds, assess, harness_bound
from analysis.load import load_run
from analysis.synthetic import synthetic_health, write_health, write_synthetic_run
from tests.analysis import frames as f

END = f.T0 + 20  # a 20 s load window


def _rules_frame() -> list[dict]:
    """One rule firing per second 1–6, near misses in 7–12, and a busy vendor (never the harness's fault)."""
    s = f.sample
    return [
        s(0.5, "machine", "machine", "cores", 2),
        s(1.5, "local", "harness", "loop_lag_ms_p95", 25),
        s(2.5, "local", "harness", "start_lateness_ms_p95", 60),
        s(3.5, "runner", "harness", "cpu_pct", 95),
        s(4.5, "mock", "mock", "cpu_pct", 90),
        s(5.5, "mock-shard-1", "mock", "loop_lag_ms_p95", 21),
        s(6.5, "machine", "machine", "cpu_busy_pct", 96),
        s(6.6, "machine", "machine", "run_queue", 3),
        # near misses: at the threshold where the rule says "over", just under where it says "at least"
        s(7.5, "local", "harness", "loop_lag_ms_p95", 20),
        s(8.5, "worker-1", "harness", "start_lateness_ms_p95", 50),
        s(9.5, "local", "harness", "cpu_pct", 89.9),
        s(10.5, "mock", "mock", "loop_lag_ms_p95", 20),
        s(11.5, "machine", "machine", "cpu_busy_pct", 99),
        s(11.6, "machine", "machine", "run_queue", 2),  # not more runnable processes than cores
        s(12.5, "vendor", "candidate", "cpu_pct", 300),
        s(30.5, "local", "harness", "loop_lag_ms_p95", 500),  # after the load window
    ]


def test_each_rule_marks_its_own_seconds() -> None:
    health = assess(f.health(_rules_frame()), t0=f.T0, end=END)
    assert health.measured and health.seconds == 20
    assert np.flatnonzero(health.bound_mask).tolist() == [1, 2, 3, 4, 5, 6]
    assert health.rule_seconds() == {
        "generator_loop_lag": 1,
        "generator_start_lateness": 1,
        "harness_cpu": 1,
        "mock_cpu": 1,
        "mock_loop_lag": 1,
        "machine_cpu": 1,
    }
    assert {rule for rule, fired in health.rules.items() if fired[6]} == {"machine_cpu"}
    assert health.share == pytest.approx(6 / 20) and health.bound
    section = health.section()
    assert section["cpu_peaks"] == {"local": 89.9, "mock": 90.0, "runner": 95.0, "vendor": 300.0}
    assert section["worst_loop_lag_ms"] == {"generator": 25.0, "mock": 21.0}
    assert (section["worst_start_lateness_ms"], section["machine_cpu_peak_pct"]) == (60.0, 99.0)


def test_start_lateness_counts_in_the_open_model_only() -> None:
    closed = assess(f.health(_rules_frame()), t0=f.T0, end=END, open_model=False)
    assert "generator_start_lateness" not in closed.rule_seconds()
    assert closed.section()["worst_start_lateness_ms"] is None


def test_start_lateness_from_the_request_records() -> None:
    rows = [f.request(3.0 + i / 10, 100.0) for i in range(10)]
    rows += [f.request(3.0 + i / 10, 100.0, started_at=f.T0 + 3.0 + i / 10 + 0.08) for i in range(10, 20)]
    healthy = f.health([f.sample(0.5, "local", "harness", "loop_lag_ms_p95", 1)])
    health = assess(healthy, t0=f.T0, end=END, requests=f.requests(rows))
    assert health.rule_seconds() == {"generator_start_lateness": 1}  # second 4: p95 of 80 ms late
    assert health.section()["worst_start_lateness_ms"] == pytest.approx(80.0)


def test_thresholds_are_overridable() -> None:
    lenient = HealthThresholds(generator_loop_lag_p95_ms=30, process_cpu_pct=96, machine_cpu_busy_pct=97)
    health = assess(f.health(_rules_frame()), t0=f.T0, end=END, thresholds=lenient)
    assert set(health.rule_seconds()) == {"generator_start_lateness", "mock_loop_lag"}
    assert health.section()["thresholds"]["generator_loop_lag_p95_ms"] == 30.0


def test_no_health_data_is_not_measured_and_never_bound() -> None:
    for frame in (f.health([]), f.health([f.sample(99.0, "local", "harness", "loop_lag_ms_p95", 900)])):
        health = assess(frame, t0=f.T0, end=END)
        assert (health.measured, health.bound, health.reason) == (False, False, None)
        section = health.section()
        assert section["measured"] is False and section["bound"] is False
        assert (section["saturated_share"], section["seconds"], section["rules"]) == (None, None, {})
        assert health.bound_at(np.array([f.T0 + 1.0])).tolist() == [False]


@pytest.mark.parametrize(
    ("part", "words"),
    [
        (
            "generator",
            "harness-bound: the load generator was saturated for 37% of the run (CPU 100%, loop lag p95 180 ms, "
            "start lateness p95 60 ms); run fewer trials at once, add `--workers`, or use a bigger machine "
            "(README: Distributed runs)",
        ),
        ("mock", "harness-bound: the mock was saturated for 37% of the run (CPU 98%, loop lag p95 60 ms); "),
        (
            "machine",
            "harness-bound: the machine was saturated for 37% of the run (CPU 99% busy on 2 cores, run queue 7)",
        ),
    ],
)
def test_the_reason_names_the_bottleneck_and_the_fix(part: str, words: str) -> None:
    table = synthetic_health(t0=f.T0, duration_s=100, saturated=part, saturated_at_s=(10, 47))
    health = assess(table.to_pandas(), t0=f.T0, end=f.T0 + 100)
    assert (health.bound_seconds, health.bottleneck) == (37, part)
    assert health.reason is not None and health.reason.startswith(words)
    assert health.section()["reason"] == health.reason


def test_a_healthy_run_is_measured_and_not_bound() -> None:
    health = assess(synthetic_health(t0=f.T0, duration_s=60).to_pandas(), t0=f.T0, end=f.T0 + 60)
    section = health.section()
    assert (section["measured"], section["bound"], section["saturated_share"], section["bound_seconds"]) == (
        True,
        False,
        0.0,
        0,
    )
    assert (section["reason"], section["bottleneck"], section["rules"]) == (None, None, {})
    assert section["worst_loop_lag_ms"] == {"generator": 2.0, "mock": 1.0}


def test_vendor_cpu_sums_the_candidates_processes_per_second() -> None:
    s = f.sample
    rows = [s(t + 0.5, "vendor", "candidate", "cpu_pct", 60, pid=10) for t in range(10)]
    rows += [s(t + 0.5, "front", "candidate", "cpu_pct", 30, pid=11) for t in range(5)]
    rows += [s(t + 0.7, "vendor", "candidate", "cpu_pct", 80, pid=10) for t in range(2)]  # two samples: their mean
    health = assess(f.health(rows), t0=f.T0, end=END)
    assert health.vendor_cpu[:6].tolist() == [100.0, 100.0, 90.0, 90.0, 90.0, 60.0]
    assert np.isnan(health.vendor_cpu[10:]).all()
    assert health.section()["vendor_cpu_pct"] == {"seconds": 10, "p50": 60.0, "p95": 100.0, "max": 100.0}
    assert not health.bound  # a busy vendor is the vendor's business


def test_load_reads_the_merged_file_and_the_shards(tmp_path: Path) -> None:
    run = write_synthetic_run(tmp_path / "r", duration_s=20, rate=5, fault_s=0)
    assert load_run(run.path).has_health is False
    table = synthetic_health(duration_s=20)
    write_health(run.path, table, shards=2)
    data = load_run(run.path)
    assert data.has_health and len(data.health) == table.num_rows
    assert not data.partial
    (run.path / "health" / "local-000009.parquet").write_bytes(b"PAR1 cut mid-write")
    data = load_run(run.path)
    assert len(data.health) == table.num_rows
    assert (
        data.health_skipped == ["health/local-000009.parquet is unreadable and was skipped (ArrowInvalid)"]
        and not data.partial
    )
    (run.path / "health.parquet").unlink()
    assert len(load_run(run.path).health) < table.num_rows  # shards alone (a crashed run) still load


def test_harness_bound_from_a_summary_dict() -> None:
    assert harness_bound({}) is None  # an older summary, or no health data
    assert harness_bound({"harness": {"measured": False, "bound": False, "reason": None}}) is None
    assert harness_bound({"harness": {"bound": True, "reason": "harness-bound: x"}}) == "harness-bound: x"
    row = {"set_aside": "harness_bound", "set_aside_reason": "harness-bound: y"}
    assert harness_bound({"harness": {"bound": False}, "sla": {"criteria": [{"set_aside": None}, row]}}) == (
        "harness-bound: y"
    )
