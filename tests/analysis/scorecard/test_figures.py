"""Each chart function returns a Figure with the vendors' data, shared colours, marks, and escaped names."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analysis.scorecard import figures
from analysis.scorecard.figures import Mark

WINDOWS = pd.DataFrame(
    {"t": [0.0, 10.0, 20.0], "p50": [10, 11, 12], "p95": [20, 90, 22], "p99": [30, 99, 33], "n": [5, 5, 5]}
)


def test_latency_over_time_marks_faults_and_recovery() -> None:
    marks = [Mark("a", 8.0, "fault"), Mark("a", 14.0, "clear"), Mark("a", 19.0, "sustained", "a recovered")]
    fig = figures.latency_over_time({"a": WINDOWS, "b": WINDOWS}, marks)
    names = [t.name for t in fig.data]
    assert "a p95" in names and "b p95" in names
    assert "a sustained recovery" in names  # the ★ on a's line
    star = next(t for t in fig.data if t.name == "a sustained recovery")
    assert list(star.x) == [19.0] and list(star.y) == [22]  # placed on the nearest window's p95
    assert [s.type for s in fig.layout.shapes] == ["rect"]  # one shaded fault window 8 → 14
    assert (fig.layout.shapes[0].x0, fig.layout.shapes[0].x1) == (8, 14)
    assert figures.has_data(fig)


def test_an_uncleared_fault_is_a_dashed_line() -> None:
    fig = figures.latency_over_time({"a": WINDOWS}, [Mark("a", 5.0, "fault")])
    assert fig.layout.shapes[0].type == "line"


def test_vendor_colours_are_stable_across_charts() -> None:
    cdf = pd.DataFrame({"latency_ms": [1.0, 2.0], "fraction": [0.5, 1.0]})
    a = figures.latency_cdf({"x": cdf, "y": cdf})
    b = figures.latency_cdf({"x": cdf, "y": cdf})
    assert [t.line.color for t in a.data] == [t.line.color for t in b.data]
    assert a.data[0].line.color != a.data[1].line.color
    assert a.layout.xaxis.type == "log"


def test_vendor_names_are_escaped_before_plotly_sees_them() -> None:
    hostile = '<img src=x onerror="alert(1)">'
    fig = figures.latency_cdf({hostile: pd.DataFrame({"latency_ms": [1.0], "fraction": [1.0]})})
    assert fig.data[0].name == "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"


def test_every_chart_function_draws_its_table() -> None:
    blocks = pd.DataFrame({"first_index": [1, 51], "uploads": [50, 50], "failures": [0, 7]})
    hours = pd.DataFrame({"hour": [1, 2], "p95": [100.0, 120.0], "error_rate": [0.0, 0.01]})
    growth = pd.DataFrame({"size": [1e5, 1e6], "p50": [5.0, 9.0], "p95": [10.0, 30.0]})
    steps = pd.DataFrame(
        {"offered_per_s": [10.0, 20.0], "ok_per_s": [10.0, 15.0], "p95": [5.0, 900.0], "error_rate": [0.0, 0.2]}
    )
    tput = pd.DataFrame({"t": [0.0, 10.0], "ok_per_s": [5.0, 4.0], "errors_per_s": [0.0, 1.0]})
    built = [
        figures.upload_failures({"a": blocks}),
        figures.soak_hourly({"a": hours}),
        figures.data_volume_growth({"a": growth}),
        figures.capacity_curve({"a": steps}, {"a": {"practical": 10.0, "crash": 20.0}}),
        figures.throughput_over_time({"a": tput}),
    ]
    for fig in built:
        assert isinstance(fig, go.Figure) and figures.has_data(fig)
    capacity = built[3]
    assert {a.text for a in capacity.layout.annotations} == {"a practical", "a crash"}


def test_has_data_is_false_for_an_empty_figure() -> None:
    empty = pd.DataFrame({"t": [], "p50": [], "p95": [], "p99": [], "n": []})
    assert not figures.has_data(figures.latency_over_time({}))
    assert not figures.has_data(figures.latency_over_time({"a": empty}))
