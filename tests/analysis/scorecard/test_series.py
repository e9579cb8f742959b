"""Golden tidy tables from small hand-made record frames."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.scorecard import series


def frame(rows: list[dict]) -> pd.DataFrame:
    base = {"scheduled_at": None, "corrected_latency_ms": None, "operation": "send_text", "name": "POST /x", "ok": True}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_latency_windows_use_corrected_latency_when_present() -> None:
    requests = frame(
        [
            {"started_at": 100.0, "latency_ms": 10.0, "corrected_latency_ms": 50.0},
            {"started_at": 101.0, "latency_ms": 20.0},
            {"started_at": 111.0, "latency_ms": 30.0},
        ]
    )
    table = series.latency_windows(requests, started_at=100.0, window_s=10.0)
    assert table["t"].tolist() == [0.0, 10.0]
    assert table["n"].tolist() == [2, 1]
    # 50 (corrected) and 20 (no schedule): nearest rank, as summary.json counts, gives an observed value.
    assert table.loc[0, "p50"] == pytest.approx(20.0)
    assert table.loc[0, "p95"] == pytest.approx(50.0)
    assert table.loc[1, "p95"] == pytest.approx(30.0)


def test_throughput_counts_ok_and_errors_per_second() -> None:
    requests = frame([{"started_at": 0.5 + i, "latency_ms": 1.0, "ok": i % 4 != 0} for i in range(20)])
    table = series.throughput_windows(requests, started_at=0.0, window_s=10.0)
    assert table["ok_per_s"].tolist() == [0.7, 0.8]
    assert table["errors_per_s"].tolist() == [0.3, 0.2]


def test_cdf_is_monotone_and_ends_at_the_maximum() -> None:
    requests = frame([{"started_at": float(i), "latency_ms": float(i + 1)} for i in range(1000)])
    table = series.latency_cdf(requests, points=50)
    assert table["fraction"].is_monotonic_increasing
    assert table["latency_ms"].is_monotonic_increasing
    assert table["latency_ms"].iloc[-1] == 1000.0
    assert len(table) <= 52


def test_upload_failures_find_where_failures_began() -> None:
    rows = [{"started_at": float(i), "latency_ms": 5.0, "operation": "upload_media", "ok": i < 120} for i in range(200)]
    rows.append({"started_at": 0.5, "latency_ms": 5.0, "operation": "send_text", "ok": False})
    requests = frame(rows)
    table = series.upload_failures(requests, bin_size=50)
    assert table["first_index"].tolist() == [1, 51, 101, 151]
    assert table["failures"].tolist() == [0, 0, 30, 50]
    assert series.first_failure_index(requests) == 121


def test_hourly_and_search_growth_and_capacity_steps() -> None:
    soak = frame([{"started_at": 30.0 * i, "latency_ms": 100.0 + (i // 4) * 50, "ok": i != 5} for i in range(8)])
    hours = series.hourly(soak, started_at=0.0, hour_s=120.0)
    assert hours["hour"].tolist() == [1, 2]
    assert hours["error_rate"].tolist() == [0.0, 0.25]

    searches = frame(
        [
            {
                "started_at": float(i),
                "latency_ms": float(s // 1000),
                "operation": "search_conversations",
                "name": f"search@{s}",
            }
            for i, s in enumerate([1000, 1000, 10_000, 10_000])
        ]
    )
    growth = series.search_growth(searches)
    assert growth["size"].tolist() == [1000, 10_000]
    assert growth["p95"].tolist() == [1.0, 10.0]

    ramp = frame(
        [
            {"scheduled_at": float(t), "started_at": float(t), "latency_ms": 10.0, "ok": t < 15}
            for t in [*range(0, 10, 2), *range(10, 20)]
        ]
    )
    steps = series.capacity_steps(ramp, started_at=0.0, step_s=10.0)
    assert steps["offered_per_s"].tolist() == [0.5, 1.0]
    assert steps["ok_per_s"].tolist() == [0.5, 0.5]
    assert steps["error_rate"].tolist() == [0.0, 0.5]


def test_empty_frames_give_empty_tables() -> None:
    empty = frame([]).reindex(
        columns=["started_at", "latency_ms", "corrected_latency_ms", "ok", "operation", "name", "scheduled_at"]
    )
    assert series.latency_windows(empty, 0.0).empty
    assert series.throughput_windows(empty, 0.0).empty
    assert series.latency_cdf(empty).empty
    assert series.upload_failures(empty).empty
    assert series.first_failure_index(empty) is None


def test_search_growth_reads_the_store_size_from_the_runners_phases() -> None:
    searches = frame(
        [
            {"started_at": float(t), "latency_ms": 5.0 if t < 10 else 40.0, "operation": "search_conversations"}
            for t in range(20)
        ]
    )
    phases = [
        {"name": "size-1000", "started_at": 0.0, "ended_at": 10.0},
        {"name": "size-50000", "started_at": 10.0, "ended_at": 20.0},
    ]
    growth = series.search_growth(searches, phases)
    assert growth["size"].tolist() == [1000, 50_000]
    assert growth["p95"].tolist() == [5.0, 40.0]
    assert growth["n"].tolist() == [10, 10]
