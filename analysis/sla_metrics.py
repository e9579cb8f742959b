"""The metrics an SLA criterion can name: a registry of resolvers over one run's evidence.

Each resolver returns a ``Measurement``: the value, how many samples it rests on, a 95% interval when one is
meaningful (order-statistic interval for percentiles, Wilson for rates; none for counts and single values),
and a detail in plain words ("worst at minute 5: 8.4 s"). ``None`` as value means "not measured in this run"
(no faults, no inbound traffic, no ledger), with the reason in ``detail``.

The names are the ones the scenarios' default criteria use (scenarios/*.py) and the presets use.

A metric is a **counted fact** (``MetricDef.counted``) when a saturated or cut-short harness cannot fake it: a lost
or duplicated message is in the ledger or it is not. ``analysis.sla`` keeps the verdict of counted facts whatever
the harness's health, and sets the others aside when the harness was saturated or the run was cut short.

Distribution and request-rate measurements carry their samples (``values`` and ``times``: 0/1 per request for a
rate), so ``analysis.sla`` can ask whether the samples missing a target fall in harness-bound seconds. A rate metric
with ``vendor_cpu_scoped`` may be restricted to the seconds the vendor's CPU was at least X (``Scope``'s
``when_vendor_cpu_at_least``, market figure #10): ``under_vendor_cpu`` narrows the evidence to them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from analysis.accounting import webhook_coverage
from analysis.agents import NOT_MEASURED
from analysis.columns import text_is
from analysis.degradation import FULL_SHARE
from analysis.harness_health import HarnessHealth
from analysis.metrics import event_time
from analysis.stats import (
    ValueRanks,
    grouped_percentiles,
    matching_ranks,
    quantile_interval,
    rank_index,
    wilson_interval,
)
from analysis.units import format_value

Unit = Literal["ms", "s", "ratio", "count", "rps", "ms/h", "x", "score", "%"]
Direction = Literal["<=", ">="]
REPLY_MINUTE_S = 60.0  # the reply timeline's window (analysis.summary)


@dataclass(frozen=True)
class Measurement:
    value: float | None
    samples: int
    ci95: tuple[float, float] | None = None
    detail: str = ""
    # The samples behind the value, when there is one per event (a latency; 1/0 per request of a rate) and when.
    values: np.ndarray | None = field(default=None, repr=False, compare=False)
    times: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass
class Evidence:
    """What a criterion may look at: the summary plus the frames it was built from."""

    summary: dict[str, Any]
    requests: pd.DataFrame
    messages: pd.DataFrame
    replies: pd.DataFrame
    webhooks: pd.DataFrame
    t0: float
    harness: HarnessHealth | None = None  # the harness's health over the load window (None: not measured)
    # A scope's restriction in time: which events count (times → mask), and how to say so in the detail.
    keep: Callable[[np.ndarray], np.ndarray] | None = None
    keep_note: str = ""
    # Contact-centre runs: one row per customer message (analysis.agents.conversation_table); None without agents.
    conversations: pd.DataFrame | None = None
    vendor_events: pd.DataFrame | None = None  # the vendor's own reports (None: no callback receiver)
    # Request columns already sorted by the summary (``analysis.metrics.latency_orders``, by column name, dropped
    # slots as NaN), so a latency criterion over every request needs no sort of its own; ``"delivery_ms"``: the
    # message table's delivery latencies (``analysis.accounting.delivery_ranks``), for the delivery criterion.
    orders: dict[str, ValueRanks] = field(default_factory=dict)


Resolver = Callable[[Evidence, str, str | None], Measurement]


@dataclass(frozen=True)
class MetricDef:
    resolver: Resolver
    unit: Unit
    direction: Direction
    aggregations: tuple[str, ...]  # allowed names; "pNN" means any percentile 0 < NN <= 100
    label: str
    bounded_ratio: bool = False  # target and warn must lie in [0, 1]
    may_be_negative: bool = False
    counted: bool = False  # a counted fact saturation or a cut cannot fake: keeps its verdict (module docstring)
    vendor_cpu_scoped: bool = False  # may be restricted to the seconds the vendor's CPU was ≥ X
    # Reported by the vendor, not verified (analysis.reported): a criterion may use it only with source: reported.
    reported: bool = False


PCT = re.compile(r"p(\d{1,3}(?:[._]\d+)?)")
_NAMED_PCT = {"median": 50.0, "p99_9": 99.9}


def parse_percentile(aggregation: str) -> float | None:
    """'p95' → 95.0, 'p99.9' / 'p99_9' → 99.9, 'median' → 50; None when it is no percentile or out of (0, 100]."""
    if aggregation in _NAMED_PCT:
        return _NAMED_PCT[aggregation]
    match = PCT.fullmatch(aggregation)
    if not match:
        return None
    value = float(match.group(1).replace("_", "."))
    return value if 0 < value <= 100 else None


def _minute_detail(
    times: np.ndarray, values: np.ndarray, pct: float, t0: float, ranks: ValueRanks, unit: str = "ms"
) -> str:
    """'worst at minute 5: 8.4 s': the minute whose own percentile was highest (vectorised over minutes)."""
    if values.size < 2:
        return ""
    minutes = np.floor((times - t0) / 60.0).astype("int64")
    keys, _counts, per_minute = grouped_percentiles(minutes, values, (pct,), ranks=ranks)
    if keys.size < 2:
        return ""
    worst = int(np.argmax(per_minute))
    return f"worst at minute {int(keys[worst]) + 1}: {format_value(float(per_minute[worst]), unit)}"


def _distribution(
    values: np.ndarray,
    times: np.ndarray,
    aggregation: str,
    t0: float,
    unit: str = "ms",
    known: ValueRanks | None = None,
) -> Measurement:
    """``known``: the ``values`` already sorted (NaN included, as ``value_ranks`` gives them), e.g. by the summary's
    request figures; used when it holds exactly these values, else they are sorted here."""
    mask = ~np.isnan(values)
    values, times = values[mask], times[mask]
    if values.size == 0:
        return Measurement(None, 0, detail="no samples")
    candidates = [ValueRanks(known.sorted_values, known.rank[mask])] if known is not None else []
    ranks = matching_ranks(values, candidates)  # one sort serves the percentile, its interval and the worst minute
    order = ranks.sorted_values
    if aggregation == "mean":
        return Measurement(float(order.mean()), int(order.size), values=values, times=times)
    if aggregation == "min":
        return Measurement(float(order[0]), int(order.size), values=values, times=times)
    pct = 100.0 if aggregation == "max" else parse_percentile(aggregation)
    assert pct is not None  # validated when the SLA was loaded
    value = float(order[rank_index(order.size, pct)])
    interval = quantile_interval(order, pct) if pct < 100 else None
    detail = _minute_detail(times, values, pct, t0, ranks, unit)
    return Measurement(value, int(order.size), interval, detail, values=values, times=times)


def _started_rows(requests: pd.DataFrame, scope: str | None) -> np.ndarray:
    """Which records were started (not dropped), of the ``scope`` operation when given: a mask, so a criterion
    takes the one or two columns it reads, never a copy of every column of the records (at 10 million requests a
    filtered copy of the frame was about 0.6 GB for a moment)."""
    started: np.ndarray = ~text_is(requests["outcome"], "dropped")
    return started if scope is None else started & text_is(requests["operation"], scope)


def _started_columns(requests: pd.DataFrame, scope: str | None, columns: list[str]) -> pd.DataFrame:
    """``columns`` of the started records of ``scope`` (``_started_rows``), in order."""
    return requests.loc[_started_rows(requests, scope), columns]


def request_latency(column: str) -> Resolver:
    def resolve(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
        # The started rows of the scope, in order, without copying the frame: its column and times only.
        started = _started_rows(ev.requests, None)
        chosen = started if scope is None else _started_rows(ev.requests, scope)
        values = ev.requests[column].to_numpy(dtype="float64", na_value=np.nan)[chosen]
        known = ev.orders.get(column) if scope is None else None  # sorted over every record, dropped ones as NaN
        if known is not None and known.rank.size == started.size:
            known = ValueRanks(known.sorted_values, known.rank[started])
        return _distribution(values, event_time(ev.requests)[chosen], aggregation, ev.t0, known=known)

    return resolve


def _rate(bad: int, n: int, what: str, note: str = "") -> Measurement:
    if n == 0:
        return Measurement(None, 0, detail=f"no {what}{note}")
    return Measurement(bad / n, n, wilson_interval(bad, n), f"{bad} of {n} {what}{note}")


def _kept(ev: Evidence, times: np.ndarray) -> np.ndarray:
    """Which events the evidence's time restriction keeps (all without one)."""
    return np.ones(times.size, dtype=bool) if ev.keep is None else np.asarray(ev.keep(times), dtype=bool)


def _request_share(ev: Evidence, scope: str | None, *, count_ok: bool) -> Measurement:
    """Share of started requests that failed (``count_ok`` False) or succeeded, with each request as a 1/0 sample."""
    chosen = _started_rows(ev.requests, scope)
    times = event_time(ev.requests)[chosen]
    ok = ev.requests["ok"].fillna(False).to_numpy(dtype=bool)[chosen]
    kept = _kept(ev, times)
    ok, times = ok[kept], times[kept]
    hit = ok if count_ok else ~ok
    what = "requests succeeded" if count_ok else "requests failed"
    measured = _rate(int(hit.sum()), int(ok.size), what, ev.keep_note)
    return replace(measured, values=hit.astype("float64"), times=times) if ok.size else measured


def error_rate(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    return _request_share(ev, scope, count_ok=False)


def availability(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    return _request_share(ev, scope, count_ok=True)


def error_count(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    ok = ev.requests["ok"].fillna(False).to_numpy(dtype=bool)[_started_rows(ev.requests, scope)]
    bad = ok.size - int(ok.sum())
    return Measurement(float(bad), ok.size, detail=f"{bad} of {ok.size} requests failed")


def _accounting_ready(ev: Evidence) -> str | None:
    acc = ev.summary["accounting"]
    if not acc["measured"]:
        return "no ledger: delivery could not be observed"
    if acc["attempted"] == 0:
        return "no messages were sent"
    return None


def accounting_count(key: str, noun: str) -> Resolver:
    def resolve(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
        missing = _accounting_ready(ev)
        acc = ev.summary["accounting"]
        if missing:
            return Measurement(None, 0, detail=missing)
        detail = f"{acc[key]} {noun} of {acc['acked']} acknowledged"
        if key == "lost" and acc["lost"] == 0 and acc["loss_upper_95"] is not None:
            detail += f" (loss below {format_value(acc['loss_upper_95'], 'ratio')} with 95% confidence)"
        return Measurement(float(acc[key]), int(acc["acked"]), detail=detail)

    return resolve


def duplicate_rate(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    missing = _accounting_ready(ev)
    acc = ev.summary["accounting"]
    return Measurement(None, 0, detail=missing) if missing else _rate(acc["duplicated"], acc["attempted"], "sent twice")


def delivery_rate(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    missing = _accounting_ready(ev)
    acc = ev.summary["accounting"]
    if missing:
        return Measurement(None, 0, detail=missing)
    if ev.keep is None:
        return _rate(acc["delivered"], acc["attempted"], "delivered")
    # Restricted in time: the messages sent then, counted as the accounting counts them (attempted = every
    # token we sent, delivered = those in the ledger at least once).
    sent = ev.messages.loc[(ev.messages["status"] != "unexpected").to_numpy(dtype=bool), ["sent_at", "copies"]]
    times = sent["sent_at"].to_numpy(dtype="float64", na_value=np.nan)
    kept = _kept(ev, times)
    delivered = sent["copies"].to_numpy()[kept] > 0
    measured = _rate(int(delivered.sum()), int(delivered.size), "delivered", ev.keep_note)
    return replace(measured, values=delivered.astype("float64"), times=times[kept]) if delivered.size else measured


def delivery_latency(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    missing = _accounting_ready(ev)
    if missing:
        return Measurement(None, 0, detail=missing)
    chosen = np.asarray(((ev.messages["status"] != "unexpected") & (ev.messages["copies"] > 0)).to_numpy(), dtype=bool)
    m = ev.messages.loc[chosen, ["delivered_at", "sent_at"]]
    values = (m["delivered_at"] - m["sent_at"]).to_numpy(dtype="float64") * 1000.0
    # The accounting's sort of the same latencies (``analysis.accounting.delivery_ranks``), when the summary made it.
    known = ev.orders.get("delivery_ms")
    if known is not None and known.rank.size == chosen.size:
        known = ValueRanks(known.sorted_values, known.rank[chosen])
    else:
        known = None
    return _distribution(values, m["sent_at"].to_numpy(dtype="float64"), aggregation, ev.t0, known=known)


def delayed_share(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    """Share of sent messages delivered later than N s (``delivery_over_Ns``) or never (lost counts as late)."""
    missing = _accounting_ready(ev)
    if missing:
        return Measurement(None, 0, detail=missing)
    bound_s = float(aggregation.removeprefix("delivery_over_").removesuffix("s"))
    m = ev.messages.loc[(ev.messages["outcome"] == "ok").to_numpy(dtype=bool), ["delivered_at", "sent_at"]]
    delay = (m["delivered_at"] - m["sent_at"]).to_numpy(dtype="float64")
    late = int((np.isnan(delay) | (delay > bound_s)).sum())
    return _rate(late, len(m), f"acknowledged messages arrived after {bound_s:g} s or never")


def reply_latency(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    if ev.replies.empty:
        return Measurement(None, 0, detail="no customer messages in this run")
    values = ev.replies["reply_ms"].to_numpy(dtype="float64")
    return _distribution(values, ev.replies["delivered_at"].to_numpy(dtype="float64"), aggregation, ev.t0)


def unanswered_ratio(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    if ev.replies.empty:
        return Measurement(None, 0, detail="no customer messages in this run")
    unanswered = int(ev.replies["replied_at"].isna().sum())
    return _rate(unanswered, len(ev.replies), "customer messages got no reply")


def reply_drift(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    """p95 reply latency in the last full minute ÷ in the first. Full minutes only, as in
    ``analysis.degradation``: a minute counts once the run covered ``FULL_SHARE`` of it, so the trailing
    part-minute of a run that stopped mid-minute (a handful of replies, p95 = one unlucky reply) is left out."""
    timeline = ev.summary.get("reply_timeline") or {}
    duration = (ev.summary.get("run") or {}).get("duration_s")
    rows = zip(timeline.get("t") or [], timeline.get("count") or [], timeline.get("p95_ms") or [], strict=True)
    minutes = [(t, n, p) for t, n, p in rows if duration is None or t + FULL_SHARE * REPLY_MINUTE_S <= duration + 1e-9]
    partial = len(timeline.get("t") or []) - len(minutes)
    left_out = f" ({partial} part-minute at the end left out)" if partial else ""
    if len(minutes) < 2 or not minutes[0][2]:
        return Measurement(None, len(minutes), detail=f"fewer than two full minutes of replies{left_out}")
    (t_first, _, first), (t_last, _, last) = minutes[0], minutes[-1]
    return Measurement(
        last / first,
        int(sum(n for _, n, _ in minutes)),
        detail=f"p95 {format_value(first, 'ms')} in minute {t_first / REPLY_MINUTE_S + 1:.0f}, "
        f"{format_value(last, 'ms')} in minute {t_last / REPLY_MINUTE_S + 1:.0f}{left_out}",
    )


def _phase_chunks(frame: pd.DataFrame, run: dict[str, Any]) -> list[np.ndarray]:
    """Latencies per phase: by the manifest's phase times when the runner recorded them, else equal-count
    slices of the records in time order (one per ``scenario_params.sizes`` entry, else thirds)."""
    times = event_time(frame)
    values = frame["latency_ms"].to_numpy(dtype="float64", na_value=np.nan)
    phases = [p for p in run.get("phases") or [] if p.get("started_at") is not None]
    if len(phases) >= 2:
        chunks = []
        for phase in phases:
            end = phase.get("ended_at") or np.inf
            chunks.append(values[(times >= phase["started_at"]) & (times < end)])
        return chunks
    sizes = run["scenario_params"].get("sizes")
    count = len(sizes) if isinstance(sizes, list) and len(sizes) >= 2 else 3
    return list(np.array_split(values[np.argsort(times, kind="stable")], count))


def phase_growth(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    """p95 in the last phase ÷ p95 in the first (market-figures #8: search 0.8 s at 1 M, 6 s at 5 M)."""
    frame = _started_columns(ev.requests, scope, ["scheduled_at", "started_at", "latency_ms"])
    chunks = [c[~np.isnan(c)] for c in _phase_chunks(frame, ev.summary["run"])]
    if len(chunks) < 2 or min(chunks[0].size, chunks[-1].size) < 2:
        return Measurement(None, len(frame), detail="too few records to compare phases")
    first, last = (float(np.sort(c)[rank_index(c.size, 95.0)]) for c in (chunks[0], chunks[-1]))
    detail = f"p95 {format_value(first, 'ms')} in the first phase, {format_value(last, 'ms')} in the last"
    return Measurement(last / first if first > 0 else None, len(frame), detail=detail)


def recovery_figure(key: str) -> Resolver:
    def resolve(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
        faults = [f for f in ev.summary["recovery"]["faults"] if scope is None or f["fault"] == scope]
        if not faults:
            return Measurement(None, 0, detail="no fault was injected in this run")
        values = []
        for fault in faults:
            if fault[key] is None:
                # Not recovered within the run: the truth is "at least this long".
                values.append(float("inf"))
            else:
                values.append(float(fault[key]))
        array = np.array(values)
        value = float(np.max(array) if aggregation in ("max", "value") else np.median(array))
        unrecovered = [f["fault_id"] for f in faults if f[key] is None]
        if unrecovered:
            bound = max(f["ttr_lower_bound_s"] or 0.0 for f in faults)
            detail = f"{', '.join(unrecovered)} did not recover within the run (watched {format_value(bound, 's')})"
        else:
            worst = max(faults, key=lambda f: f[key])
            detail = f"worst: {worst['fault_id']} ({worst['fault']})"
        return Measurement(value, len(faults), detail=detail)

    return resolve


def recovery_point(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    faults = ev.summary["recovery"]["faults"]
    if not faults:
        return Measurement(None, 0, detail="no fault was injected in this run")
    spans = [f["recovery_point"]["span_s"] if f["recovery_point"] else 0.0 for f in faults]
    return Measurement(
        float(max(spans)), len(faults), detail=f"{sum(f['lost_messages'] for f in faults)} lost around faults"
    )


def summary_value(path: tuple[str, ...], what: str) -> Resolver:
    def resolve(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
        node: Any = ev.summary
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return Measurement(None, 0, detail=f"{what} was not measured in this run")
        return Measurement(float(node), 1)

    return resolve


def crash_point(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    """The crash point; a ramp that never crashed only says "above the highest step", an open-ended interval."""
    section = ev.summary.get("capacity") or {}
    steps = section.get("steps") or []
    if not steps:
        return Measurement(None, 0, detail="no stepped ramp in this run")
    if section.get("crash_rps") is not None:
        return Measurement(float(section["crash_rps"]), len(steps))
    highest = max(float(step["offered_rps"]) for step in steps)
    return Measurement(highest, len(steps), (highest, float("inf")), f"no crash up to {format_value(highest, 'rps')}")


def _covering(measurement: Measurement, webhooks: pd.DataFrame) -> Measurement:
    """The measurement with the note that it covers only the later attempts, when the mock dropped older ones."""
    coverage = webhook_coverage(webhooks)
    if coverage is None:
        return measurement
    detail = f"{measurement.detail}; {coverage['note']}" if measurement.detail else coverage["note"]
    return replace(measurement, detail=detail)


def webhook_latency(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    answered = ev.webhooks[~ev.webhooks["outcome"].astype("str").isin(["timeout", "connect_error"])]
    values = answered["response_ms"].to_numpy(dtype="float64", na_value=np.nan)
    times = answered["sent_at"].to_numpy(dtype="float64", na_value=np.nan)
    return _covering(_distribution(values, times, aggregation, ev.t0), ev.webhooks)


def webhook_share(slow: bool) -> Resolver:
    def resolve(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
        outcome = ev.webhooks["outcome"].astype("str")
        if slow:
            response = ev.webhooks["response_ms"].to_numpy(dtype="float64", na_value=np.nan)
            bad = int((outcome.isin(["timeout", "connect_error"]).to_numpy() | (response > 1000.0)).sum())
            measured = _rate(bad, len(ev.webhooks), "webhook posts took over 1 s or got no answer")
        else:
            measured = _rate(int((outcome != "ok").sum()), len(ev.webhooks), "webhook posts failed")
        return _covering(measured, ev.webhooks)

    return resolve


def vendor_cpu(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    """The candidate's processes' CPU (% of one core, summed) per second of the load window."""
    health = ev.harness
    if health is None or not health.measured:
        return Measurement(None, 0, detail="no health data: the harness did not watch the vendor's processes")
    watched = np.isfinite(health.vendor_cpu)
    if not watched.any():
        return Measurement(None, 0, detail="no candidate process was watched (a remote SaaS, or not on this machine)")
    times = health.t0 + np.flatnonzero(watched).astype("float64")
    return _distribution(health.vendor_cpu[watched], times, aggregation, ev.t0, unit="%")


def under_vendor_cpu(ev: Evidence, at_least: float) -> Evidence | Measurement:
    """The evidence narrowed to the seconds the vendor's CPU was ≥ ``at_least``; a not-measured ``Measurement``
    when its CPU was not watched or never got that high (the criterion is then not applicable)."""
    peak = vendor_cpu(ev, "max", None)
    if peak.value is None:
        return Measurement(None, 0, detail=f"vendor CPU not measured: {peak.detail}")
    health = ev.harness
    assert health is not None
    busy = int((health.vendor_cpu >= at_least).sum())
    threshold = format_value(at_least, "%")
    if busy == 0:
        return Measurement(
            None, 0, detail=f"the vendor's CPU never reached {threshold} (peak {format_value(peak.value, '%')})"
        )

    def keep(times: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.asarray(health.vendor_cpu_at(times) >= at_least, dtype=bool)

    return replace(ev, keep=keep, keep_note=f", in the {busy} s the vendor's CPU was ≥ {threshold}")


def _no_agents(ev: Evidence) -> Measurement | None:
    if ev.conversations is None:
        return Measurement(None, 0, detail=NOT_MEASURED)
    if ev.conversations.empty:
        return Measurement(None, 0, detail="no customer message reached the vendor")
    return None


def agent_latency(column: str) -> Resolver:
    """Customer message delivered → ``column`` (assigned_at, human_at, bot_at; "first" for the earlier reply)."""

    def resolve(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
        missing = _no_agents(ev)
        if missing:
            return missing
        table = ev.conversations
        assert table is not None
        at = table["delivered_at"].to_numpy(dtype="float64")
        if column == "first":
            reply = np.fmin(table["bot_at"].to_numpy(dtype="float64"), table["human_at"].to_numpy(dtype="float64"))
        else:
            reply = table[column].to_numpy(dtype="float64")
        values = np.clip((reply - at) * 1000.0, 0.0, None)
        return _distribution(values, at, aggregation, ev.t0)

    return resolve


def assigned_share(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    """Share of judged conversations assigned within N s of delivery (``within_Ns``), Wilson interval."""
    missing = _no_agents(ev)
    if missing:
        return missing
    assert ev.conversations is not None
    bound_s = float(aggregation.removeprefix("within_").removesuffix("s"))
    judged = ev.conversations[ev.conversations["judged"]]
    wait = judged["assigned_at"].to_numpy(dtype="float64") - judged["delivered_at"].to_numpy(dtype="float64")
    good = wait <= bound_s
    queued = int((judged["unassigned"]).sum())
    note = f"; {queued} never assigned" if queued else ""
    measured = _rate(int(good.sum()), int(good.size), f"conversations assigned within {bound_s:g} s{note}")
    times = judged["delivered_at"].to_numpy(dtype="float64")
    return replace(measured, values=good.astype("float64"), times=times) if good.size else measured


def conversation_ratio(column: str, what: str) -> Resolver:
    def resolve(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
        missing = _no_agents(ev)
        if missing:
            return missing
        assert ev.conversations is not None
        judged = ev.conversations[ev.conversations["judged"]]
        return _rate(int(judged[column].sum()), len(judged), what)

    return resolve


def segment_count(key: str, what: str) -> Resolver:
    def resolve(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
        section = (ev.summary.get("agents") or {}).get("segment")
        if not section:
            return Measurement(None, 0, detail="no segment broadcast in this run (or no agent operations)")
        if not section["broadcast_ok"]:
            return Measurement(None, 0, detail="the vendor refused the segment broadcast (see the requests)")
        return Measurement(float(section[key]), int(section["members"]), detail=f"{section[key]} {what}")

    return resolve


LATENCY_AGGS = ("pNN", "median", "mean", "min", "max")
RATIO_AGGS = ("ratio", "rate", "value")


def _reported_ready(ev: Evidence) -> tuple[dict[str, Any] | None, str]:
    section = ev.summary.get("reported")
    if not section:
        return None, "the vendor's own reports were not collected (no callbacks block in the vendor profile)"
    if not section["acked"]:
        return None, "no acknowledged sends to report on"
    return section, ""


def reported_share(key: str, what: str) -> Resolver:
    """A share from the summary's ``reported`` section (count over its base, with the Wilson interval)."""

    def resolve(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
        section, missing = _reported_ready(ev)
        if section is None:
            return Measurement(None, 0, detail=missing)
        share = section[key]
        return _rate(int(share["count"]), int(share["of"]), f"{what} (reported by the vendor, not verified)")

    return resolve


def reported_latency(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    """Send start → the vendor's first delivered (or read) callback, per acknowledged send it reported delivered."""
    from analysis.reported import per_message

    section, missing = _reported_ready(ev)
    if section is None or ev.vendor_events is None:
        return Measurement(None, 0, detail=missing or "the vendor's own reports were not collected")
    table, _ = per_message(ev.requests, ev.vendor_events)
    values = (table["reported_delivered_at"] - table["sent_at"]).to_numpy(dtype="float64") * 1000.0
    times = table["sent_at"].to_numpy(dtype="float64")
    kept = ~np.isnan(values)
    return _distribution(values[kept], times[kept], aggregation, ev.t0)


def reported_but_lost(ev: Evidence, aggregation: str, scope: str | None) -> Measurement:
    missing = _accounting_ready(ev)
    acc = ev.summary["accounting"]
    if missing:
        return Measurement(None, 0, detail=missing)
    value = acc.get("reported_delivered_but_lost")
    if value is None:
        return Measurement(None, 0, detail="the vendor's own reports were not collected")
    return Measurement(float(value), int(acc["acked"]), detail=f"{value} lost messages the vendor reported delivered")


METRICS: dict[str, MetricDef] = {
    "latency_ms": MetricDef(request_latency("latency_ms"), "ms", "<=", LATENCY_AGGS, "request latency"),
    "corrected_latency_ms": MetricDef(
        request_latency("corrected_latency_ms"), "ms", "<=", LATENCY_AGGS, "corrected request latency"
    ),
    "error_rate": MetricDef(
        error_rate, "ratio", "<=", RATIO_AGGS, "error rate", bounded_ratio=True, vendor_cpu_scoped=True
    ),
    "availability": MetricDef(
        availability, "ratio", ">=", RATIO_AGGS, "availability", bounded_ratio=True, vendor_cpu_scoped=True
    ),
    "upload_failures": MetricDef(error_count, "count", "<=", ("count", "value"), "failed requests"),
    "error_count": MetricDef(error_count, "count", "<=", ("count", "value"), "failed requests"),
    "lost_messages": MetricDef(
        accounting_count("lost", "lost"), "count", "<=", ("count", "value"), "lost messages", counted=True
    ),
    "duplicated_messages": MetricDef(
        accounting_count("duplicated", "duplicated"),
        "count",
        "<=",
        ("count", "value"),
        "duplicated messages",
        counted=True,
    ),
    "duplicate_rate": MetricDef(
        duplicate_rate, "ratio", "<=", RATIO_AGGS, "duplicate rate", bounded_ratio=True, counted=True
    ),
    "delivery_rate": MetricDef(
        delivery_rate, "ratio", ">=", RATIO_AGGS, "delivery rate", bounded_ratio=True, vendor_cpu_scoped=True
    ),
    "delayed_share": MetricDef(
        delayed_share, "ratio", "<=", ("delivery_over_Ns",), "late deliveries", bounded_ratio=True
    ),
    "delivery_latency_ms": MetricDef(delivery_latency, "ms", "<=", LATENCY_AGGS, "delivery latency"),
    "reply_latency_ms": MetricDef(reply_latency, "ms", "<=", LATENCY_AGGS, "reply latency"),
    "reply_latency_drift_ratio": MetricDef(
        reply_drift, "x", "<=", ("last_over_first_minute", "value"), "reply latency drift"
    ),
    "unanswered_ratio": MetricDef(unanswered_ratio, "ratio", "<=", RATIO_AGGS, "unanswered share", bounded_ratio=True),
    "search_growth_factor": MetricDef(
        phase_growth, "x", "<=", ("p95_last_over_first_phase", "value"), "p95 growth between phases"
    ),
    "sustained_recovery_s": MetricDef(
        recovery_figure("ttr_sustained_s"), "s", "<=", ("max", "median", "value"), "sustained recovery time"
    ),
    "first_success_s": MetricDef(
        recovery_figure("ttr_first_s"), "s", "<=", ("max", "median", "value"), "time to first success"
    ),
    "recovery_point_s": MetricDef(
        recovery_point, "s", "<=", ("max", "value"), "recovery point (lost span)", counted=True
    ),
    "latency_p95_slope_ms_per_hour": MetricDef(
        summary_value(("degradation", "slope_ms_per_hour"), "the p95 slope"),
        "ms/h",
        "<=",
        ("theil_sen", "value"),
        "p95 latency slope",
        may_be_negative=True,
    ),
    "latency_p95_ratio": MetricDef(
        summary_value(("degradation", "last_first_ratio"), "the p95 ratio"),
        "x",
        "<=",
        ("last_over_first", "value"),
        "p95 last/first window",
    ),
    "capacity_practical_rps": MetricDef(
        summary_value(("capacity", "practical_rps"), "practical capacity"),
        "rps",
        ">=",
        ("value",),
        "practical capacity",
    ),
    "capacity_crash_rps": MetricDef(crash_point, "rps", ">=", ("value",), "crash point"),
    "webhook_ack_ms": MetricDef(webhook_latency, "ms", "<=", LATENCY_AGGS, "webhook acknowledgement"),
    "webhook_ack_over_1s_share": MetricDef(
        webhook_share(slow=True), "ratio", "<=", RATIO_AGGS, "webhook acks over 1 s", bounded_ratio=True
    ),
    "webhook_failure_rate": MetricDef(
        webhook_share(slow=False), "ratio", "<=", RATIO_AGGS, "webhook failures", bounded_ratio=True
    ),
    "apdex_delivery": MetricDef(
        summary_value(("apdex", "delivery", "score"), "delivery Apdex"),
        "score",
        ">=",
        ("value",),
        "delivery Apdex",
        bounded_ratio=True,
    ),
    "vendor_cpu_pct": MetricDef(vendor_cpu, "%", "<=", ("pNN", "median", "mean", "min", "max"), "vendor CPU"),
    "assignment_latency_ms": MetricDef(agent_latency("assigned_at"), "ms", "<=", LATENCY_AGGS, "assignment latency"),
    "assigned_share": MetricDef(
        assigned_share, "ratio", ">=", ("within_Ns",), "conversations assigned in time", bounded_ratio=True
    ),
    "first_response_ms": MetricDef(agent_latency("first"), "ms", "<=", LATENCY_AGGS, "first response"),
    "first_bot_response_ms": MetricDef(agent_latency("bot_at"), "ms", "<=", LATENCY_AGGS, "first bot response"),
    "first_human_response_ms": MetricDef(agent_latency("human_at"), "ms", "<=", LATENCY_AGGS, "first human response"),
    "unassigned_ratio": MetricDef(
        conversation_ratio("unassigned", "conversations never assigned"),
        "ratio",
        "<=",
        RATIO_AGGS,
        "unassigned share",
        bounded_ratio=True,
    ),
    "abandoned_ratio": MetricDef(
        conversation_ratio("abandoned", "customers waited past the abandon bound"),
        "ratio",
        "<=",
        RATIO_AGGS,
        "abandoned share",
        bounded_ratio=True,
    ),
    "segment_lost": MetricDef(
        segment_count("lost", "segment members never got the broadcast"),
        "count",
        "<=",
        ("count", "value"),
        "segment members missed",
        counted=True,
    ),
    "segment_unexpected": MetricDef(
        segment_count("unexpected", "customers outside the segment got it"),
        "count",
        "<=",
        ("count", "value"),
        "broadcast outside the segment",
        counted=True,
    ),
    "reported_delivery_rate": MetricDef(
        reported_share("delivery_rate", "reported delivered"),
        "ratio",
        ">=",
        RATIO_AGGS,
        "reported delivery rate",
        bounded_ratio=True,
        reported=True,
    ),
    "reported_read_rate": MetricDef(
        reported_share("read_rate", "reported read of the reported delivered"),
        "ratio",
        ">=",
        RATIO_AGGS,
        "reported read rate",
        bounded_ratio=True,
        reported=True,
    ),
    "reported_failure_rate": MetricDef(
        reported_share("failure_rate", "reported failed"),
        "ratio",
        "<=",
        RATIO_AGGS,
        "reported failure rate",
        bounded_ratio=True,
        reported=True,
    ),
    "reported_unconfirmed_share": MetricDef(
        reported_share("unconfirmed", "never reported delivered, read or failed"),
        "ratio",
        "<=",
        RATIO_AGGS,
        "acknowledged, never reported",
        bounded_ratio=True,
        reported=True,
    ),
    "reported_status_latency_ms": MetricDef(
        reported_latency, "ms", "<=", LATENCY_AGGS, "reported delivery latency", reported=True
    ),
    "reported_delivered_but_lost": MetricDef(
        reported_but_lost, "count", "<=", ("count", "value"), "lost but reported delivered", counted=True
    ),
    "apdex_reply": MetricDef(
        summary_value(("apdex", "reply", "score"), "reply Apdex"),
        "score",
        ">=",
        ("value",),
        "reply Apdex",
        bounded_ratio=True,
    ),
}


def aggregation_allowed(metric: MetricDef, aggregation: str) -> bool:
    if aggregation in metric.aggregations:
        return True
    if "pNN" in metric.aggregations and parse_percentile(aggregation) is not None:
        return True
    if "within_Ns" in metric.aggregations:
        return re.fullmatch(r"within_\d+(\.\d+)?s", aggregation) is not None
    if "delivery_over_Ns" in metric.aggregations:
        return re.fullmatch(r"delivery_over_\d+(\.\d+)?s", aggregation) is not None
    return False
