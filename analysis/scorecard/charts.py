"""Choose and build the evidence charts for a set of runs: one group per scenario, only charts with data.

A chart without data is never drawn; it is listed under "what could not be shown" with the reason instead.
Every run is drawn: a vendor with one run of a scenario is one trace named after the vendor, a vendor with
several gets one trace per run ("steady run 2"), and each run's fault and recovery marks carry its own trace's
name, so a marker always sits on the run it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from analysis.scorecard import figures, series
from analysis.scorecard.figures import Mark
from analysis.scorecard.inputs import RunBundle
from analysis.scorecard.model import Chart


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def trace_names(runs: list[RunBundle]) -> list[str]:
    """One name per run, in order: the vendor, or "vendor run N" when the vendor has several runs here."""
    totals: dict[str, int] = {}
    for bundle in runs:
        totals[bundle.vendor] = totals.get(bundle.vendor, 0) + 1
    seen: dict[str, int] = {}
    names = []
    for bundle in runs:
        seen[bundle.vendor] = seen.get(bundle.vendor, 0) + 1
        names.append(bundle.vendor if totals[bundle.vendor] == 1 else f"{bundle.vendor} run {seen[bundle.vendor]}")
    return names


def marks_for(bundle: RunBundle, name: str | None = None) -> list[Mark]:
    """Fault injections and clears from ``faults.jsonl``; recovery moments from the summary's recovery section.

    ``name`` is the trace the marks belong to (the run's trace name; the vendor by default).
    """
    name = name or bundle.vendor
    t0 = bundle.manifest.started_at
    marks = [
        Mark(name, e.at - t0, "fault" if e.action == "inject" else "clear", e.fault)
        for e in bundle.faults
        if e.action in ("inject", "clear")
    ]
    section = bundle.summary.get("recovery")
    faults = section.get("faults") if isinstance(section, dict) else None
    for entry in faults if isinstance(faults, list) else []:
        injected = _number(entry.get("injected_at")) if isinstance(entry, dict) else None
        if injected is None:
            continue
        for key, kind in (("ttr_first_s", "first_success"), ("ttr_sustained_s", "sustained")):
            offset = _number(entry.get(key))
            if offset is not None:
                label = f"{name}: {kind.replace('_', ' ')} {offset:.0f} s after the fault"
                marks.append(Mark(name, injected - t0 + offset, kind, label))  # type: ignore[arg-type]
    return marks


def figure_json(fig: go.Figure) -> str:
    """The figure as JSON safe inside a ``<script type="application/json">`` block: no ``<``, ``>``, ``&``."""
    text = str(pio.to_json(fig, validate=False, pretty=False))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Collector:
    def __init__(self) -> None:
        self.charts: list[Chart] = []
        self.omitted: list[str] = []

    def add(self, section: str, title: str, caption: str, fig: go.Figure) -> None:
        if not figures.has_data(fig):
            self.omitted.append(f"{title}: no data in these runs")
            return
        chart_id = f"chart-{len(self.charts) + 1}"
        self.charts.append(Chart(chart_id, section, title, caption, figure_json(fig)))


def _per_run(runs: list[RunBundle], fn: Callable[[RunBundle], Any]) -> dict[str, Any]:
    """``fn``'s table for every run with data, keyed by the run's trace name (no run overwrites another)."""
    tables = {}
    for name, bundle in zip(trace_names(runs), runs, strict=True):
        table = fn(bundle)
        if table is not None and not table.empty:
            tables[name] = table
    return tables


def _scenario_charts(out: _Collector, scenario: str, runs: list[RunBundle]) -> None:
    names = trace_names(runs)
    marks = [m for name, b in zip(names, runs, strict=True) for m in marks_for(b, name)]
    window = 10.0 if max((len(b.requests) for b in runs), default=0) > 200 else 5.0
    lat = _per_run(runs, lambda b: series.latency_windows(b.requests, b.manifest.started_at, window))
    out.add(
        scenario,
        f"{scenario}: latency over time",
        "p95 per run (click the legend for p50 and p99); shaded: fault active; ○ first success, ★ sustained recovery.",
        figures.latency_over_time(lat, marks, title=f"{scenario}: latency over time"),
    )
    tput = _per_run(runs, lambda b: series.throughput_windows(b.requests, b.manifest.started_at, window))
    out.add(
        scenario,
        f"{scenario}: throughput and errors",
        "Successful requests per second and errors per second.",
        figures.throughput_over_time(tput, marks, title=f"{scenario}: throughput and errors"),
    )
    cdf = _per_run(runs, lambda b: series.latency_cdf(b.requests))
    out.add(
        scenario,
        f"{scenario}: latency distribution",
        "Share of requests answered within a given time; further left and steeper is better.",
        figures.latency_cdf(cdf, title=f"{scenario}: latency distribution"),
    )
    uploads = _per_run(runs, lambda b: series.upload_failures(b.requests))
    if uploads:
        firsts = {n: series.first_failure_index(b.requests) for n, b in zip(names, runs, strict=True)}
        words = "; ".join(
            f"{v}: " + (f"first failure at upload {i}" if i else "no failed upload") for v, i in firsts.items()
        )
        out.add(
            scenario,
            f"{scenario}: media-upload failures",
            f"Failed uploads per block of 50. {words}.",
            figures.upload_failures(uploads, title=f"{scenario}: media-upload failures"),
        )
    if scenario == "soak":
        hours = _per_run(runs, lambda b: series.hourly(b.requests, b.manifest.started_at, _soak_hour_s(b)))
        out.add(
            scenario,
            "soak: hour by hour",
            "p95 and error rate per (compressed) hour: drift shows as a slope.",
            figures.soak_hourly(hours),
        )
    growth = _per_run(runs, lambda b: series.search_growth(b.requests, _phases(b)))
    if growth:
        out.add(
            scenario,
            f"{scenario}: search latency as data grows",
            "Conversation search p95 at each store size.",
            figures.data_volume_growth(growth),
        )
    if scenario == "capacity":
        steps = _per_run(
            runs,
            lambda b: series.capacity_steps(
                b.requests, b.manifest.started_at, float(b.manifest.scenario_params.get("step_s", 0) or 0)
            ),
        )
        knees = {n: _knees(b) for n, b in zip(names, runs, strict=True)}
        out.add(
            scenario,
            "capacity curve",
            "Achieved against offered load; the dotted diagonal is ideal.",
            figures.capacity_curve(steps, knees),
        )


AGENTS_SECTION = "agents and routing"


def _agents_charts(out: _Collector, runs: list[RunBundle]) -> None:
    """The contact-centre evidence (``summary["agents"]``): assignment and first-human-response distributions,
    the queue and each agent's occupancy over time; a run whose dialect has no agents is said, never drawn as 0."""
    names = trace_names(runs)
    measured = {n: b.summary["agents"] for n, b in zip(names, runs, strict=True) if b.summary.get("agents")}
    for name, bundle in zip(names, runs, strict=True):
        if bundle.scenario == "contact-center" and name not in measured:
            out.omitted.append(f"{AGENTS_SECTION}, {name}: not measured (the vendor's dialect has no agent operations)")
    if not measured:
        return
    out.add(
        AGENTS_SECTION,
        "assignment latency",
        "Customer message delivered to the vendor → assigned to an agent; the dotted line is market-figures.md #11's "
        "5 s (80% of conversations should be left of it).",
        figures.agents_cdf({n: a["assignment_cdf"] for n, a in measured.items()}, title="assignment latency",
                           what="assignment latency", bound_s=5.0),
    )  # fmt: skip
    firsts = {n: a.get("first_human_response_ms") or {} for n, a in measured.items()}
    words = "; ".join(
        f"{n}: p50 {_seconds(f.get('p50'))}, p95 {_seconds(f.get('p95'))} ({f.get('count', 0)} replies)"
        for n, f in firsts.items()
    )
    queue = {n: (a["queue"]["t"], a["queue"]["length"]) for n, a in measured.items()}
    out.add(
        AGENTS_SECTION,
        "queue length",
        f"Conversations delivered and not yet assigned, as the harness saw them. First human response: {words}.",
        figures.agents_over_time(queue, title="queue length", y_title="conversations waiting"),
    )
    for name, section in measured.items():
        occupancy = section.get("occupancy") or {}
        lines = {agent: (occupancy.get("t", []), values) for agent, values in (occupancy.get("agents") or {}).items()}
        out.add(
            AGENTS_SECTION,
            f"occupancy per agent: {name}",
            "Open conversations ÷ the agent's cap (market-figures.md #11: 5–7 in parallel); balance across agents "
            f"(coefficient of variation of assignments): {_number(section.get('balance_cv')) or 0:.2f}.",
            figures.agents_over_time(lines, title=f"occupancy per agent: {name}", y_title="occupancy", share=True),
        )


NUMBERS_SECTION = "business numbers"
_SHARE_LABELS = {"throttled_share": "throttled", "error_share": "errors", "delivered_share": "delivered"}
_FIGURE_WORDS = {
    "throttled_share": "throttled share",
    "error_share": "error share",
    "delivered_share": "delivered share",
    "latency_p50_ms": "request p50",
    "latency_p99_ms": "request p99",
    "delivery_p50_ms": "delivery p50",
    "delivery_p99_ms": "delivery p99",
}


def _numbers_charts(out: _Collector, runs: list[RunBundle]) -> None:
    """Per business number (``summary["numbers"]``), for runs that spread their load over several: how evenly the
    sends went, and only where numbers differ (two numbers' 95% intervals apart) the worst ones on each share; a
    run whose numbers are uniform says so in the caption instead. Bounded: a histogram and at most ``worst`` bars
    per share, whatever the number of numbers."""
    names = trace_names(runs)
    measured = {
        n: b.summary["numbers"]
        for n, b in zip(names, runs, strict=True)
        if isinstance(b.summary.get("numbers"), dict) and (b.summary["numbers"].get("count") or 0) > 1
    }
    if not measured:
        return
    words = "; ".join(_numbers_words(name, section) for name, section in measured.items())
    sends = {n: [row.get("sends", 0) for row in s.get("by_number") or []] for n, s in measured.items()}
    out.add(NUMBERS_SECTION, "sends per number", f"How many numbers carried how many sends. {words}",
            figures.numbers_sends(sends, title="sends per number"))  # fmt: skip
    for name, section in measured.items():
        shares = [key for key in section.get("differs") or [] if key in _SHARE_LABELS]
        if not shares:
            continue
        by_id = {row.get("phone_number_id"): row for row in section.get("by_number") or []}
        worst = [by_id[key] for key in section.get("worst") or [] if key in by_id]
        out.add(
            NUMBERS_SECTION,
            f"worst numbers: {name}",
            f"The {len(worst)} numbers that fared worst of {section.get('count')} (throttled first, then errors, "
            "then undelivered), with 95% intervals; throttling codes: "
            f"{', '.join(section.get('throttle_codes') or [])}.",
            figures.numbers_worst(worst, [(key, _SHARE_LABELS[key]) for key in shares], title=f"worst numbers: {name}"),
        )


def _numbers_words(name: str, section: dict[str, Any]) -> str:
    count = section.get("count")
    load = section.get("load") or {}
    spread = f"{load.get('sends_min')}–{load.get('sends_max')} sends each"
    if section.get("uniform"):
        return f"{name}: {count} numbers, {spread}; uniform (every figure's 95% intervals overlap across numbers)"
    differs = ", ".join(_FIGURE_WORDS.get(key, key) for key in section.get("differs") or [])
    details = []
    for key in section.get("differs") or []:
        points = (section.get("spread") or {}).get(key) or {}
        low, mid, high = (_number(points.get(k)) for k in ("min", "p50", "max"))
        if low is None or mid is None or high is None:
            continue
        shown_values = [f"{v:.1%}" if key.endswith("share") else f"{v:.0f} ms" for v in (low, mid, high)]
        details.append(f"{_FIGURE_WORDS.get(key, key)} {' / '.join(shown_values)}")
    shown = f" (min / median / max over numbers: {'; '.join(details)})" if details else ""
    return f"{name}: {count} numbers, {spread}; they differ on {differs}{shown}"


def _seconds(ms: Any) -> str:
    value = _number(ms)
    return "–" if value is None else f"{value / 1000.0:.1f} s"


def _phases(bundle: RunBundle) -> list[dict[str, Any]]:
    phases = bundle.run.get("phases") or (bundle.manifest.model_extra or {}).get("phases") or []
    return [p for p in phases if isinstance(p, dict)]


def _soak_hour_s(bundle: RunBundle) -> float:
    """A soak compresses a business week (168 hours) into its duration: one chart point per compressed hour."""
    params = bundle.manifest.scenario_params
    duration = params.get("duration_s")
    return float(duration) / 168.0 if isinstance(duration, int | float) and duration > 0 else 3600.0


def _knees(bundle: RunBundle) -> dict[str, float]:
    capacity = bundle.summary.get("capacity") or {}
    names = {"practical_rps": "practical", "crash_rps": "crash"}
    return {names[k]: float(v) for k, v in capacity.items() if k in names and isinstance(v, int | float)}


def build_charts(bundles: list[RunBundle]) -> tuple[list[Chart], list[str]]:
    """All evidence charts, grouped by scenario in the order the runs were given, and what was left out."""
    by_scenario: dict[str, list[RunBundle]] = {}
    for bundle in bundles:
        by_scenario.setdefault(bundle.scenario, []).append(bundle)
    out = _Collector()
    for scenario, runs in by_scenario.items():
        _scenario_charts(out, scenario, runs)
    _agents_charts(out, bundles)
    _numbers_charts(out, bundles)
    return out.charts, out.omitted
