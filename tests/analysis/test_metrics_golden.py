"""Golden request metrics: hand-built records with answers worked out by hand (nearest-rank percentiles)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.metrics import distinct_keys, request_metrics, window_series
from analysis.stats import (
    grouped_percentiles,
    latency_summary,
    matching_ranks,
    percentile,
    quantile_interval,
    rule_of_three,
    value_ranks,
    wilson_interval,
)
from tests.analysis import frames as f


def test_nearest_rank_percentiles_of_1_to_100() -> None:
    summary = latency_summary(np.arange(1, 101, dtype=float))
    assert summary == {
        "count": 100,
        "min": 1.0,
        "mean": 50.5,
        "p50": 50.0,
        "p90": 90.0,
        "p95": 95.0,
        "p99": 99.0,
        "p99_9": 100.0,
        "max": 100.0,
    }


def test_percentile_of_small_samples_is_an_observed_value() -> None:
    assert percentile([10.0, 20.0, 30.0], 50) == 20.0
    assert percentile([10.0, 20.0, 30.0], 95) == 30.0
    assert percentile([10.0, np.nan], 99) == 10.0
    assert percentile([], 50) is None


def test_request_metrics_count_errors_dropped_and_throughput() -> None:
    # 10 s of records: 6 ok (100..600 ms), 2 failed (http 503, timeout), 1 dropped slot; last ends at t=10.
    rows = [f.request(float(i), 100.0 * (i + 1)) for i in range(6)]
    rows.append(f.request(6.0, 700.0, ok=False, error_code="503"))
    rows.append(f.request(7.0, 2000.0, ok=False, outcome="indeterminate", error_kind="timeout", error_code="timeout"))
    rows.append(f.request(8.0, outcome="dropped", ok=False))
    rows.append(f.request(9.0, 1000.0, operation="upload_media"))
    metrics = request_metrics(f.requests(rows), open_model=True)
    overall = metrics["overall"]
    assert metrics["duration_s"] == pytest.approx(10.0)
    assert overall["count"] == 10
    assert overall["started"] == 9
    assert overall["ok"] == 7
    assert overall["errors"] == 2
    assert (overall["failed"], overall["indeterminate"], overall["dropped_slots"]) == (1, 1, 1)
    assert overall["error_rate"] == pytest.approx(2 / 9)
    assert overall["dropped_rate"] == pytest.approx(0.1)
    assert overall["throughput_rps"] == pytest.approx(0.9)
    assert overall["ok_rps"] == pytest.approx(0.7)
    assert overall["errors_by_kind"] == {"http": 1, "timeout": 1}
    assert overall["errors_by_code"] == {"503": 1, "timeout": 1}
    # Latencies of the 9 started: 100..700, 2000, 1000 → sorted 100,200,300,400,500,600,700,1000,2000.
    lat = overall["latency_ms"]
    assert (lat["p50"], lat["p90"], lat["p95"], lat["max"]) == (500.0, 2000.0, 2000.0, 2000.0)
    assert lat["mean"] == pytest.approx(5800 / 9)
    assert overall["corrected_latency_ms"]["p50"] == 500.0
    assert metrics["by_operation"]["upload_media"]["count"] == 1
    assert metrics["by_operation"]["send_text"]["throughput_rps"] == pytest.approx(0.8)


def test_closed_model_has_no_corrected_latency() -> None:
    metrics = request_metrics(f.requests([f.request(0.0), f.request(1.0)]), open_model=False)
    assert metrics["overall"]["corrected_latency_ms"] is None


def test_window_series_places_records_and_leaves_gaps() -> None:
    rows = [
        f.request(0.2, 100.0),
        f.request(0.7, 300.0, ok=False),
        f.request(2.5, 50.0),
        f.request(2.6, outcome="dropped", ok=False),
    ]
    series = window_series(f.requests(rows), 1, f.T0, open_model=True)
    assert series["t"] == [0.0, 2.0]  # second 1 had no record: absent, not zero
    assert series["count"] == [2, 2]
    assert series["errors"] == [1, 0]
    assert series["dropped"] == [0, 1]
    assert series["error_rate"] == [0.5, 0.0]
    assert series["throughput_rps"] == [2.0, 1.0]
    assert series["latency_p50_ms"] == [100.0, 50.0]
    assert series["latency_p95_ms"] == [300.0, 50.0]
    assert series["corrected_p99_ms"] == [300.0, 50.0]


def test_wilson_interval_and_rule_of_three() -> None:
    lo, hi = wilson_interval(0, 1000) or (None, None)
    assert lo == 0.0
    assert hi == pytest.approx(0.003826, abs=1e-5)
    lo, hi = wilson_interval(10, 100) or (None, None)
    assert (lo, hi) == (pytest.approx(0.05523, abs=1e-4), pytest.approx(0.17437, abs=1e-4))
    assert rule_of_three(1000) == pytest.approx(0.002991, abs=1e-5)  # ≈ 3/N
    assert rule_of_three(0) is None


def test_quantile_interval_brackets_the_percentile() -> None:
    values = np.arange(1, 1001, dtype=float)
    lo, hi = quantile_interval(values, 50.0) or (0, 0)
    assert lo < 500 < hi
    assert hi - lo < 80
    assert quantile_interval(np.array([1.0]), 50.0) is None


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-3, 5), st.one_of(st.floats(0, 1e4, allow_nan=False), st.just(float("nan")))),
        max_size=80,
    )
)
def test_grouped_percentiles_match_per_group_nearest_rank(rows: list[tuple[int, float]]) -> None:
    keys = np.array([k for k, _ in rows], dtype="int64")
    values = np.array([v for _, v in rows], dtype="float64")
    uniq, counts, p50, p99 = grouped_percentiles(keys, values, (50.0, 99.0))
    expected = sorted({k for k, v in rows if not np.isnan(v)})
    assert uniq.tolist() == expected
    for i, key in enumerate(expected):
        group = values[(keys == key) & ~np.isnan(values)]
        assert counts[i] == group.size
        assert p50[i] == percentile(group, 50.0)
        assert p99[i] == percentile(group, 99.0)


def test_figures_are_written_in_plain_words() -> None:
    from analysis.units import format_value

    assert format_value(8400.0, "ms") == "8.4 s"
    assert format_value(337.4, "ms") == "337 ms"
    assert format_value(600.0, "s") == "10 min"
    assert format_value(95.0, "s") == "95 s"
    assert format_value(0.0123, "ratio") == "1.23%"
    assert format_value(3.0, "count") == "3"
    assert format_value(7.0, "x") == "7×"
    assert format_value(float("inf"), "s") == "never"
    assert format_value(None, "ms") == "n/a"


def test_windows_counted_by_bincount_match_numpy_unique_and_a_wide_span_takes_the_sort() -> None:
    rng = np.random.default_rng(3)
    for keys in (rng.integers(-50, 400, 2_000), np.array([0, 10**12, 5, 5, -(10**12)], dtype="int64")):
        uniq, counts, position = distinct_keys(keys)
        expected, expected_counts = np.unique(keys, return_counts=True)
        assert uniq.tolist() == expected.tolist() and counts.tolist() == expected_counts.tolist()
        assert position.tolist() == np.searchsorted(expected, keys).tolist()


def test_a_sort_is_reused_only_when_it_holds_exactly_the_values() -> None:
    values = np.array([3.0, np.nan, 1.0, 2.0, 2.0])
    known = value_ranks(values)
    assert matching_ranks(values.copy(), [known]) is known
    other = values.copy()
    other[3] = 2.5  # one value differs: sorted anew
    fresh = matching_ranks(other, [known])
    assert fresh is not known and fresh.sorted_values.tolist() == [1.0, 2.0, 2.5, 3.0]
    shifted = np.array([np.nan, 3.0, 1.0, 2.0, 2.0])  # the NaN elsewhere: sorted anew
    assert matching_ranks(shifted, [known]) is not known
    assert known.subset(np.array([True, True, False, True, False])).tolist() == [2.0, 3.0]
