"""The scorecard's evidence charts: pure functions from tidy tables (``series.py``) to plotly Figures.

Every function takes one table per vendor (``{vendor: DataFrame}``) so the vendors share axes and colours, and
returns a Figure without touching disk or network. Vendor-supplied text (names, labels) is escaped before it
reaches plotly, whose labels accept a little HTML.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd
import plotly.graph_objects as go

PALETTE = ("#1f6feb", "#d4622a", "#2da44e", "#8250df", "#bf8700", "#cf222e", "#57606a")
MarkKind = Literal["fault", "clear", "first_success", "sustained"]
_MARK_STYLE: dict[str, tuple[str, str]] = {
    "first_success": ("circle-open", "first success"),
    "sustained": ("star", "sustained recovery"),
}


@dataclass(frozen=True)
class Mark:
    """A moment on a run's timeline: a fault injected or cleared, or a recovery reached."""

    vendor: str
    t: float  # seconds since the run's start
    kind: MarkKind
    label: str = ""


def safe(text: object) -> str:
    """Vendor-controlled text as plotly may show it: HTML-escaped, so a name like ``<b onmouseover=…>`` is text."""
    return html.escape(str(text), quote=True)


def colours(vendors: Sequence[str]) -> dict[str, str]:
    return {vendor: PALETTE[i % len(PALETTE)] for i, vendor in enumerate(vendors)}


def _base(title: str, x_title: str, y_title: str, *, height: int = 360) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        template="none",
        title={"text": safe(title), "x": 0.01, "font": {"size": 15}},
        height=height,
        margin={"l": 64, "r": 24, "t": 48, "b": 48},
        legend={"orientation": "h", "y": -0.2},
        hovermode="x unified",
        font={"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
        xaxis={"title": {"text": x_title}, "gridcolor": "#eaeef2", "zeroline": False},
        yaxis={"title": {"text": y_title}, "gridcolor": "#eaeef2", "zeroline": False, "rangemode": "tozero"},
    )
    return fig


def _fault_shapes(fig: go.Figure, marks: Sequence[Mark]) -> None:
    """Shade each fault window once (runs of one scenario share the schedule), dashed line when never cleared."""
    faults = sorted({round(m.t) for m in marks if m.kind == "fault"})
    clears = sorted({round(m.t) for m in marks if m.kind == "clear"})
    for start in faults:
        end = next((c for c in clears if c >= start), None)
        if end is not None and end > start:
            fig.add_vrect(
                x0=start,
                x1=end,
                fillcolor="#cf222e",
                opacity=0.09,
                line_width=0,
                annotation_text="fault",
                annotation_position="top left",
            )
        else:
            fig.add_vline(x=start, line_dash="dash", line_color="#cf222e", annotation_text="fault")


def latency_over_time(
    windows: Mapping[str, pd.DataFrame], marks: Sequence[Mark] = (), *, title: str = "Latency over time"
) -> go.Figure:
    """p95 per vendor (solid) with p50 and p99 thin; faults shaded; recovery marks on each vendor's p95 line."""
    fig = _base(title, "seconds since start", "latency (ms)")
    palette = colours(list(windows))
    for vendor, table in windows.items():
        colour, name = palette[vendor], safe(vendor)
        fig.add_scatter(
            x=table["t"], y=table["p95"], name=f"{name} p95", mode="lines", line={"color": colour, "width": 2.5}
        )
        for column, dash in (("p50", "dot"), ("p99", "dash")):
            fig.add_scatter(
                x=table["t"],
                y=table[column],
                name=f"{name} {column}",
                mode="lines",
                line={"color": colour, "width": 1, "dash": dash},
                visible="legendonly",
            )
        for kind, (symbol, what) in _MARK_STYLE.items():
            points = [m for m in marks if m.vendor == vendor and m.kind == kind]
            if not points or table.empty:
                continue
            ys = [float(table["p95"].iloc[(table["t"] - m.t).abs().argmin()]) for m in points]
            fig.add_scatter(
                x=[m.t for m in points],
                y=ys,
                mode="markers",
                name=f"{name} {what}",
                marker={"symbol": symbol, "size": 13, "color": colour, "line": {"width": 2}},
                text=[safe(m.label) for m in points],
                hovertemplate="%{text}<extra></extra>",
            )
    _fault_shapes(fig, marks)
    return fig


def throughput_over_time(
    windows: Mapping[str, pd.DataFrame], marks: Sequence[Mark] = (), *, title: str = "Throughput and errors"
) -> go.Figure:
    """Successful requests per second (lines) and errors per second (bars) per vendor, faults shaded."""
    fig = _base(title, "seconds since start", "requests per second")
    palette = colours(list(windows))
    for vendor, table in windows.items():
        colour, name = palette[vendor], safe(vendor)
        fig.add_scatter(
            x=table["t"], y=table["ok_per_s"], name=f"{name} ok/s", mode="lines", line={"color": colour, "width": 2}
        )
        fig.add_bar(x=table["t"], y=table["errors_per_s"], name=f"{name} errors/s", marker_color=colour, opacity=0.45)
    fig.update_layout(barmode="group", bargap=0.1)
    _fault_shapes(fig, marks)
    return fig


def latency_cdf(cdfs: Mapping[str, pd.DataFrame], *, title: str = "Latency distribution") -> go.Figure:
    """Share of requests answered within x ms, per vendor; log x so the tail is readable."""
    fig = _base(title, "latency (ms, log scale)", "share of requests at or below")
    palette = colours(list(cdfs))
    for vendor, table in cdfs.items():
        fig.add_scatter(
            x=table["latency_ms"],
            y=table["fraction"],
            name=safe(vendor),
            mode="lines",
            line={"color": palette[vendor], "width": 2, "shape": "hv"},
        )
    fig.update_xaxes(type="log")
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return fig


def upload_failures(blocks: Mapping[str, pd.DataFrame], *, title: str = "Media-upload failures") -> go.Figure:
    """Failed uploads per block of consecutive uploads: shows the upload index where failures began."""
    fig = _base(title, "upload index (block start)", "failed uploads in block")
    palette = colours(list(blocks))
    for vendor, table in blocks.items():
        fig.add_bar(
            x=table["first_index"],
            y=table["failures"],
            name=safe(vendor),
            marker_color=palette[vendor],
            customdata=table["uploads"],
            hovertemplate="%{y} of %{customdata} failed<extra></extra>",
        )
    fig.update_layout(barmode="group")
    return fig


def soak_hourly(hours: Mapping[str, pd.DataFrame], *, title: str = "Soak, hour by hour") -> go.Figure:
    """p95 per hour (lines, left axis) and error rate per hour (dotted, right axis)."""
    fig = _base(title, "hour", "p95 latency (ms)")
    palette = colours(list(hours))
    for vendor, table in hours.items():
        colour, name = palette[vendor], safe(vendor)
        fig.add_scatter(
            x=table["hour"],
            y=table["p95"],
            name=f"{name} p95",
            mode="lines+markers",
            line={"color": colour, "width": 2},
        )
        fig.add_scatter(
            x=table["hour"],
            y=table["error_rate"],
            name=f"{name} errors",
            mode="lines+markers",
            line={"color": colour, "dash": "dot"},
            yaxis="y2",
        )
    fig.update_layout(
        yaxis2={
            "title": {"text": "error rate"},
            "overlaying": "y",
            "side": "right",
            "tickformat": ".1%",
            "rangemode": "tozero",
            "showgrid": False,
        }
    )
    return fig


def data_volume_growth(growth: Mapping[str, pd.DataFrame], *, title: str = "Search latency as data grows") -> go.Figure:
    """Conversation-search p95 against the number of stored conversations (log x)."""
    fig = _base(title, "stored conversations (log scale)", "search latency p95 (ms)")
    palette = colours(list(growth))
    for vendor, table in growth.items():
        fig.add_scatter(
            x=table["size"],
            y=table["p95"],
            name=safe(vendor),
            mode="lines+markers",
            line={"color": palette[vendor], "width": 2},
        )
    fig.update_xaxes(type="log")
    return fig


def capacity_curve(
    steps: Mapping[str, pd.DataFrame],
    knees: Mapping[str, Mapping[str, float]] | None = None,
    *,
    title: str = "Capacity: offered against achieved",
) -> go.Figure:
    """Achieved throughput per offered step; the practical and crash points marked when the analysis gave them."""
    fig = _base(title, "offered (requests per second)", "achieved (successful per second)")
    palette = colours(list(steps))
    top = 0.0
    for vendor, table in steps.items():
        colour, name = palette[vendor], safe(vendor)
        top = max(top, float(table["offered_per_s"].max()) if not table.empty else 0.0)
        fig.add_scatter(
            x=table["offered_per_s"],
            y=table["ok_per_s"],
            name=name,
            mode="lines+markers",
            line={"color": colour, "width": 2},
            customdata=table[["p95", "error_rate"]],
            hovertemplate="offered %{x:.0f}/s: %{y:.0f}/s ok, p95 %{customdata[0]:.0f} ms, "
            "errors %{customdata[1]:.1%}<extra></extra>",
        )
        for point, value in (knees or {}).get(vendor, {}).items():
            fig.add_vline(x=value, line_color=colour, line_dash="dot", annotation_text=f"{name} {safe(point)}")
    fig.add_scatter(x=[0, top], y=[0, top], name="ideal", mode="lines", line={"color": "#8c959f", "dash": "dot"})
    return fig


def agents_cdf(
    cdfs: Mapping[str, Mapping[str, Sequence[float]]], *, title: str, what: str, bound_s: float | None = None
) -> go.Figure:
    """Share of conversations at or below x seconds, per run (``analysis.agents``' CDF points); a dotted line
    at ``bound_s`` (market-figures.md #11's 5 s)."""
    fig = _base(title, f"{what} (s)", "share of conversations at or below")
    palette = colours(list(cdfs))
    for name, cdf in cdfs.items():
        seconds = [ms / 1000.0 for ms in cdf.get("ms", [])]
        fig.add_scatter(x=seconds, y=list(cdf.get("share", [])), name=safe(name), mode="lines",
                        line={"color": palette[name], "width": 2, "shape": "hv"})  # fmt: skip
    if bound_s is not None:
        fig.add_vline(x=bound_s, line={"dash": "dot", "color": "#57606a"})
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return fig


def agents_over_time(
    lines: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, title: str, y_title: str, share: bool = False
) -> go.Figure:
    """One line per name (a run's queue, or an agent's occupancy) over seconds since the run's start."""
    fig = _base(title, "seconds since start", y_title)
    palette = colours(list(lines))
    for name, (xs, ys) in lines.items():
        fig.add_scatter(x=list(xs), y=list(ys), name=safe(name), mode="lines",
                        line={"color": palette[name], "width": 1.5, "shape": "hv"})  # fmt: skip
    if share:
        fig.update_yaxes(tickformat=".0%")
    return fig


def numbers_sends(sends: Mapping[str, Sequence[int]], *, title: str) -> go.Figure:
    """How many business numbers carried how many sends, per run (``summary["numbers"]``): a tall narrow bar is
    an even spread; a long tail is numbers the load (or the vendor) favoured."""
    fig = _base(title, "sends from one number", "numbers")
    palette = colours(list(sends))
    for name, values in sends.items():
        fig.add_histogram(x=list(values), name=safe(name), marker={"color": palette[name]}, opacity=0.75)
    fig.update_layout(barmode="overlay", hovermode="closest")
    return fig


def numbers_worst(rows: Sequence[Mapping[str, object]], figures: Sequence[tuple[str, str]], *, title: str) -> go.Figure:
    """The worst numbers of one run side by side on each differing share (``(key, label)`` of ``figures``), each
    with its 95% interval; numbers are categories on x, worst first."""
    fig = _base(title, "business number (phone-number id)", "share of its sends")
    ids = [safe(row.get("phone_number_id", "")) for row in rows]
    for index, (key, label) in enumerate(figures):
        values, plus, minus = [], [], []
        for row in rows:
            figure = row.get(key)
            value = figure.get("value") if isinstance(figure, Mapping) else None
            interval = figure.get("ci95") if isinstance(figure, Mapping) else None
            values.append(value)
            if isinstance(value, int | float) and isinstance(interval, list | tuple) and len(interval) == 2:
                plus.append(float(interval[1]) - float(value))
                minus.append(float(value) - float(interval[0]))
            else:
                plus.append(0.0)
                minus.append(0.0)
        fig.add_bar(x=ids, y=values, name=safe(label), marker={"color": PALETTE[index % len(PALETTE)]},
                    error_y={"type": "data", "array": plus, "arrayminus": minus, "visible": True})  # fmt: skip
    fig.update_layout(barmode="group", hovermode="closest")
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=".0%")
    return fig


def has_data(fig: go.Figure) -> bool:
    """True when at least one trace has a point: the scorecard never shows an empty chart."""
    for trace in fig.data:
        xs = getattr(trace, "x", None)
        if xs is not None and len(xs) > 0:
            return True
    return False
