"""Golden summary.json: a hand-built results folder whose every headline figure is worked out by hand.

The run: one send a second for 120 s (100 ms each) plus one dropped slot; a fault from 30 s to 40 s makes the
ten sends in between fail; send t25 is acknowledged but never reaches the ledger; the rest arrive 200 ms after
their slot; two customer messages are answered in 1 s (minute 1) and 2 s (minute 2); two webhook attempts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.load import load_run
from analysis.summary import build_summary
from ground.records import LEDGER_SCHEMA, REQUEST_SCHEMA, WEBHOOK_ATTEMPT_SCHEMA, FaultEvent, RunManifest
from tests.analysis import frames as f


def _write(frame, schema: pa.Schema, path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), path)


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("golden") / "golden-run"
    (folder / "requests").mkdir(parents=True)
    rows = [f.request(float(i), 100.0, ok=not 30 <= i < 40, correlation_id=f"t{i}") for i in range(120)]
    rows.append(f.request(0.5, outcome="dropped", ok=False, correlation_id="slot"))
    _write(f.requests(rows[:60]), REQUEST_SCHEMA, folder / "requests" / "w0-1.parquet")
    _write(f.requests(rows[60:]), REQUEST_SCHEMA, folder / "requests" / "w1-1.parquet")
    arrivals = [f.arrival(f"t{i}", i + 0.2) for i in range(120) if not 30 <= i < 40 and i != 25]
    arrivals += [
        {"arrived_at": f.T0 + 5, "wamid": "in0", "direction": "inbound"},
        {"arrived_at": f.T0 + 70, "wamid": "in1", "direction": "inbound"},
        {"arrived_at": f.T0 + 6.1, "wamid": "r0", "reply_to_wamid": "in0", "inbound_delivered_at": f.T0 + 5.1},
        {"arrived_at": f.T0 + 72.1, "wamid": "r1", "reply_to_wamid": "in1", "inbound_delivered_at": f.T0 + 70.1},
    ]
    _write(f.ledger(arrivals), LEDGER_SCHEMA, folder / "ledger.parquet")
    hooks = [
        {"sent_at": f.T0 + 5, "delivery_id": "d0", "response_ms": 30.0},
        {"sent_at": f.T0 + 70, "delivery_id": "d1", "response_ms": 50.0},
    ]
    _write(f.attempts(hooks), WEBHOOK_ATTEMPT_SCHEMA, folder / "webhooks.parquet")
    events = [
        FaultEvent(at=f.T0 + 30, action="inject", fault="outage", fault_id="o1"),
        FaultEvent(at=f.T0 + 40, action="clear", fault="outage", fault_id="o1"),
    ]
    (folder / "faults.jsonl").write_text("".join(e.model_dump_json() + "\n" for e in events))
    manifest = RunManifest(
        run_id="golden-run",
        scenario="capacity",
        scenario_params={"step_s": 60},
        vendor={"name": "acme"},
        started_at=f.T0,
        ended_at=f.T0 + 120,
        complete=True,
    )
    (folder / "manifest.json").write_text(manifest.model_dump_json())
    result = build_summary(load_run(folder))
    json.dumps(result, allow_nan=False)  # strict JSON
    return result


def test_run_section(summary: dict) -> None:
    run = summary["run"]
    assert (run["run_id"], run["vendor"], run["scenario"], run["load_model"]) == (
        "golden-run",
        "acme",
        "capacity",
        "open",
    )
    assert run["t0"] == f.T0
    assert run["duration_s"] == pytest.approx(119.1)
    assert (run["complete"], run["partial"], run["partial_reasons"]) == (True, False, [])
    assert summary["schema_version"] == 1 and summary["kind"] == "scrmbench.summary"
    assert summary["unmeasured"] == {} and summary["sla"] is None


def test_requests_section(summary: dict) -> None:
    o = summary["requests"]["overall"]
    assert (o["count"], o["started"], o["ok"], o["errors"], o["failed"], o["dropped_slots"]) == (
        121,
        120,
        110,
        10,
        10,
        1,
    )
    assert o["error_rate"] == pytest.approx(10 / 120)
    assert o["dropped_rate"] == pytest.approx(1 / 121)
    assert o["throughput_rps"] == pytest.approx(120 / 119.1)
    assert o["ok_rps"] == pytest.approx(110 / 119.1)
    assert o["latency_ms"]["p50"] == o["latency_ms"]["p99_9"] == o["corrected_latency_ms"]["max"] == 100.0
    assert list(summary["requests"]["by_operation"]) == ["send_text"]


def test_timeline_section(summary: dict) -> None:
    ten = summary["timeline"]["10"]
    assert ten["t"] == [10.0 * i for i in range(12)]
    assert ten["count"] == [11] + [10] * 11
    assert ten["ok"] == [10, 10, 10, 0] + [10] * 8
    assert ten["errors"][3] == 10 and ten["dropped"][0] == 1
    assert ten["error_rate"][:4] == [0.0, 0.0, 0.0, 1.0]
    assert ten["latency_p99_ms"] == [100.0] * 12 and ten["corrected_p50_ms"] == [100.0] * 12
    assert len(summary["timeline"]["1"]["t"]) == 120
    assert summary["timeline"]["60"]["count"] == [61, 60]


def test_accounting_section(summary: dict) -> None:
    a = summary["accounting"]
    assert (a["attempted"], a["acked"], a["failed"], a["delivered"], a["lost"]) == (120, 110, 10, 109, 1)
    assert (a["duplicated"], a["unexpected"], a["recovered"], a["unresolved"], a["valid"]) == (0, 0, 0, 0, False)
    assert a["loss_rate"] == pytest.approx(1 / 110)
    assert a["lost_sample"] == ["t25"]
    assert a["delivery_latency_ms"]["count"] == 109
    assert a["delivery_latency_ms"]["p50"] == pytest.approx(200.0)


def test_reply_webhook_and_apdex_sections(summary: dict) -> None:
    assert summary["reply"]["answered"] == 2
    assert summary["reply"]["latency_ms"]["max"] == pytest.approx(2000.0)
    assert summary["reply_timeline"]["t"] == [0.0, 60.0]
    assert summary["reply_timeline"]["p95_ms"] == [pytest.approx(1000.0), pytest.approx(2000.0)]
    w = summary["webhooks"]
    assert (w["attempts"], w["deliveries"], w["retries"], w["good"]) == (2, 2, 0, True)
    assert w["ack_latency_ms"]["p50"] == 30.0
    # The golden run's webhook attempts name no message, so the mock's dispatch delay is not measured.
    assert summary["reply"]["mock_dispatch_ms"]["count"] == 0
    apdex = summary["apdex"]
    assert apdex["request"]["score"] == pytest.approx(110 / 120)  # the 10 failures are frustrated
    assert apdex["request"]["rating"] == "Good"
    assert apdex["delivery"]["score"] == pytest.approx(109 / 110)  # the lost one is frustrated
    assert apdex["reply"]["score"] == 1.0


def test_recovery_degradation_and_capacity_sections(summary: dict) -> None:
    r = summary["recovery"]
    (fault,) = r["faults"]
    assert (fault["injected_s"], fault["cleared_s"], fault["ttd_s"]) == (30.0, 40.0, 0.0)
    assert (fault["ttr_first_s"], fault["ttr_sustained_s"], fault["ttr_sustained_from_clear_s"]) == (10.0, 10.0, 0.0)
    assert (fault["outage_s"], fault["flaps"], fault["lost_messages"]) == (10.0, 0, 1)
    assert fault["recovery_point"] == {"first_s": -5.0, "last_s": -5.0, "span_s": 0.0}
    assert (r["worst_ttr_sustained_s"], r["median_ttr_sustained_s"], r["lost_messages"]) == (10.0, 10.0, 1)
    assert r["params"]["confirm_window_s"] == 60.0
    d = summary["degradation"]
    assert (d["windows"], d["slope_ms_per_hour"], d["last_first_ratio"]) == (2, None, 1.0)
    assert d["hourly"] == [
        {
            "hour": 0,
            "count": 120,
            "p50_ms": 100.0,
            "p95_ms": 100.0,
            "p99_ms": 100.0,
            "error_rate": pytest.approx(10 / 120),
        }
    ]
    c = summary["capacity"]
    assert c["step_s"] == 60.0
    assert [s["offered_rps"] for s in c["steps"]] == [pytest.approx(61 / 60), 1.0]
    assert c["steps"][0]["goodput_rps"] == pytest.approx(50 / 60)
    assert c["crash_rps"] == pytest.approx(61 / 60)  # 10 of 60 failed in the first step: over 5%
    assert (c["practical_rps"], c["ideal_rps"]) == (None, None)


def test_harness_section_without_health_data(summary: dict) -> None:
    """No health.parquet: the harness was not measured, never harness-bound, and no other figure changes."""
    from analysis.harness_health import HealthThresholds

    assert summary["harness"] == {
        "measured": False,
        "bound": False,
        "saturated_share": None,
        "bound_seconds": None,
        "seconds": None,
        "bottleneck": None,
        "worst_loop_lag_ms": {"generator": None, "mock": None},
        "worst_start_lateness_ms": None,
        "cpu_peaks": {},
        "machine_cpu_peak_pct": None,
        "vendor_cpu_pct": None,
        "rules": {},
        "reason": None,
        "thresholds": HealthThresholds().as_dict(),
    }
    assert "harness" not in summary["unmeasured"]
