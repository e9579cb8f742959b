"""Build the versioned ``summary.json`` dict of one run from its frames (docs/summary-schema.md is the contract).

The scorecard renders from this dict alone, so every figure a reader sees is here with its definition in the
schema page. Pure: takes a loaded ``RunData`` (and an optional SLA), returns plain JSON-ready data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from analysis import accounting as acc
from analysis.agents import DEFAULT_ABANDON_S, agents_section, conversation_table, has_agents, segment_of
from analysis.apdex import apdex
from analysis.capacity import capacity
from analysis.columns import text_is
from analysis.cost import cost
from analysis.degradation import degradation
from analysis.harness_health import HealthThresholds, assess
from analysis.load import RunData
from analysis.metrics import latency_orders, request_metrics, run_span, timelines
from analysis.numbers import numbers_section
from analysis.rates import RateCard, shipped_card
from analysis.recovery import RecoveryParams, recovery
from analysis.reported import report_accuracy, reported_delivered_but_lost, reported_figures
from analysis.sla import SlaSpec, evaluate
from analysis.sla_metrics import Evidence
from analysis.stats import grouped_percentiles

SCHEMA_VERSION = 1
# Records (requests + ledger rows) past which the request-only figures are made before the token join instead of
# beside it, so the two sets of run-sized temporaries are not held at once: at 10M requests (20M records) 3.88 GB
# peak instead of 4.76 GB, 20.2 s instead of 17.5 s. A 5M run (10M records) keeps the side thread.
SIDE_THREAD_MAX_RECORDS = 12_000_000
# A 1 s series of an 8-hour soak is 28,800 points; past this length only the 10 s and 1 min series are kept.
MAX_ONE_SECOND_SPAN_S = 4 * 3600.0


@dataclass(frozen=True)
class AnalysisOptions:
    """Knobs of the analysis; the defaults are the ones design.md and the presets document."""

    recovery: RecoveryParams = field(default_factory=RecoveryParams)
    apdex_t_ms: dict[str, float] = field(default_factory=lambda: {"request": 500.0, "delivery": 800.0, "reply": 2000.0})
    degradation_window_s: float = 60.0
    capacity_step_s: float | None = None  # default: manifest scenario_params step_s / step_duration_s
    capacity_p95_ms: float = 500.0
    capacity_error_rate: float = 0.01
    recovery_overrides: dict[str, float] = field(default_factory=dict)  # RecoveryParams fields, e.g. from the CLI
    harness: HealthThresholds = field(default_factory=HealthThresholds)  # when the harness measured itself
    rate_card: RateCard | None = None  # prices for the ``cost`` section; None: the shipped card (analysis/rates.py)


def _clean(value: Any) -> Any:
    """NaN/inf → None and numpy scalars → Python, recursively, so the dict is strict JSON."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _vendor_name(run: RunData) -> str:
    vendor = run.manifest.vendor
    for key in ("name", "profile", "id"):
        if vendor.get(key):
            return str(vendor[key])
    if run.requests["vendor"].notna().any():
        return str(run.requests["vendor"].dropna().iloc[0])
    return "unknown"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None


def recovery_params(run: RunData, base: RecoveryParams) -> RecoveryParams:
    """The recovery windows: a scenario may set its own (``recovery_short_window_s``, ``recovery_confirm_s``,
    ``recovery_success_target``) in its parameters, e.g. a short failover drill; else the given defaults."""
    params = run.manifest.scenario_params
    update = {
        field: value
        for key, field in (
            ("recovery_short_window_s", "short_window_s"),
            ("recovery_confirm_s", "confirm_window_s"),
            ("recovery_success_target", "success_target"),
        )
        if (value := _number(params.get(key))) is not None
    }
    return replace(base, **update) if update else base


def _capacity_step(run: RunData, options: AnalysisOptions) -> float | None:
    if options.capacity_step_s:
        return options.capacity_step_s
    params = run.manifest.scenario_params
    for key in ("step_s", "step_duration_s"):
        if isinstance(params.get(key), int | float) and params[key] > 0:
            return float(params[key])
    return None


def run_section(run: RunData, t0: float, end: float) -> dict[str, Any]:
    m = run.manifest
    return {
        "run_id": m.run_id,
        "run_tag": m.run_tag,
        "scenario": m.scenario,
        "scenario_params": m.scenario_params,
        "vendor": _vendor_name(run),
        "load_model": m.load_model,
        "seed": m.seed,
        "sla_file": m.sla,
        "versions": m.versions,
        "started_at": m.started_at,
        "ended_at": m.ended_at,
        "t0": t0,
        "duration_s": end - t0,
        "complete": m.complete,
        "partial": run.partial,
        "partial_reasons": list(run.partial_reasons),
        "workers": list(m.workers),
        "notes": list(m.notes),
        "unmeasured": dict(m.unmeasured),
        # Written by the runner beside the schema's fields: [{name, started_at, ended_at}] and lost workers.
        "phases": list((m.model_extra or {}).get("phases") or []),
        "missing_workers": list((m.model_extra or {}).get("missing_workers") or []),
    }


def build_summary(
    run: RunData, *, sla: SlaSpec | None = None, options: AnalysisOptions | None = None
) -> dict[str, Any]:
    """The whole summary of one run; without an SLA the ``sla`` section is null."""
    options = options or AnalysisOptions()
    # Precedence: explicit overrides (CLI) > the scenario's own windows > the defaults.
    options = replace(options, recovery=replace(recovery_params(run, options.recovery), **options.recovery_overrides))
    open_model = run.manifest.load_model == "open"
    span = run_span(run.requests)
    t0 = span[0] if span else run.manifest.started_at
    end = span[1] if span else (run.manifest.ended_at or t0)
    unmeasured = dict(run.manifest.unmeasured)

    # The request-only figures run on a second thread while this one does the accounting join: numpy sorts and
    # pyarrow hashing release the GIL, so on two cores a 5-million-row run scores markedly faster. The functions
    # only read the shared frames. The latency columns are sorted once there for the request figures, every window
    # length of the timeline and the degradation; the cost and per-number figures follow once the join is made.
    big = len(run.requests) + len(run.ledger) > SIDE_THREAD_MAX_RECORDS
    pool: ThreadPoolExecutor | _InOrder = _InOrder() if big else ThreadPoolExecutor(max_workers=1)
    orders = pool.submit(latency_orders, run.requests)
    side: dict[str, Future[Any]] = {
        "requests": pool.submit(lambda: request_metrics(run.requests, open_model=open_model, orders=orders.result())),
        "timeline": pool.submit(lambda: timelines(run.requests, t0, open_model=open_model, orders=orders.result())),
        "degradation": pool.submit(
            lambda: degradation(
                run.requests, t0, window_s=options.degradation_window_s, end=end, orders=orders.result().values()
            )
        ),
    }

    tokens = acc.token_codes(run.requests, run.ledger)  # one numbering of the tokens for the join and the cost
    messages = acc.message_table(run.requests, run.ledger, tokens)
    side["numbers"] = pool.submit(
        numbers_section, run.requests, messages, ledger_available=run.has_ledger, tokens=tokens
    )
    side["cost"] = pool.submit(
        lambda: (
            cost(
                run.ledger,
                messages,
                options.rate_card or shipped_card(),
                run.requests,
                tokens,
                segment=segment_of(run.agents),
            )
            if run.has_ledger
            else None
        )
    )
    pool.shutdown(wait=False)
    accounting = acc.accounting(messages, ledger_available=run.has_ledger)
    if not run.has_ledger:
        unmeasured.setdefault("accounting", "no ledger export: the candidate was not pointed at the mock")
    replies = acc.reply_table(run.ledger)
    reply = acc.reply_metrics(replies, acc.mock_dispatch_ms(run.ledger, run.webhooks)) if len(replies) else None
    # The vendor's own reports (status callbacks), and, when the ledger shows the truth, how truthful they were.
    reported = reported_figures(run.requests, run.vendor_events) if run.has_vendor_events else None
    accuracy = (
        report_accuracy(run.requests, run.vendor_events, run.ledger, run.webhooks)
        if run.has_vendor_events and run.has_ledger
        else None
    )
    if run.has_vendor_events and run.has_ledger:
        accounting["reported_delivered_but_lost"] = reported_delivered_but_lost(
            messages, run.requests, run.vendor_events
        )
    else:
        accounting["reported_delivered_but_lost"] = None
    if reported is not None:
        reported["receiver"] = (run.manifest.model_extra or {}).get("callbacks")
    webhooks = acc.webhook_metrics(run.webhooks) if len(run.webhooks) else None
    if webhooks is None:
        unmeasured.setdefault("webhooks", "no webhook attempts recorded")

    rec = recovery(run.faults, run.requests, messages, end, options.recovery)
    for item in rec["faults"]:
        item["injected_s"] = item["injected_at"] - t0
        item["cleared_s"] = item["cleared_at"] - t0 if item["cleared_at"] is not None else None

    delivery_ms = (messages["delivered_at"] - messages["sent_at"]).to_numpy(dtype="float64") * 1000.0
    acked_mask = np.asarray((messages["outcome"] == "ok").to_numpy(), dtype=bool)
    request_latency = run.requests["latency_ms"].to_numpy(dtype="float64", na_value=np.nan)
    request_ok = run.requests["ok"].fillna(False).to_numpy(dtype=bool)
    not_dropped = ~text_is(run.requests["outcome"], "dropped")
    apdex_section: dict[str, Any] = {
        "request": apdex(np.where(request_ok, request_latency, np.nan)[not_dropped], options.apdex_t_ms["request"]),
        "delivery": apdex(delivery_ms[acked_mask], options.apdex_t_ms["delivery"]) if run.has_ledger else None,
        "reply": apdex(replies["reply_ms"].to_numpy(dtype="float64"), options.apdex_t_ms["reply"]) if reply else None,
    }

    health = (
        assess(run.health, t0=t0, end=end, requests=run.requests, open_model=open_model, thresholds=options.harness)
        if run.has_health
        else assess(run.health, t0=t0, end=t0, thresholds=options.harness)  # not measured
    )

    requests = side["requests"].result()
    series = side["timeline"].result()
    if end - t0 > MAX_ONE_SECOND_SPAN_S:
        series.pop("1")
    step = _capacity_step(run, options)
    abandon_s = _number(run.manifest.scenario_params.get("abandon_s")) or DEFAULT_ABANDON_S
    agents = agents_section(run.agents, run.ledger, t0, end, abandon_s=abandon_s) if run.has_ledger else None
    conversations = conversation_table(run.agents, run.ledger, abandon_s=abandon_s) if agents else None
    if agents is None and has_agents(run.agents):
        unmeasured.setdefault("agents", "no ledger export: first responses and assignments cannot be joined")
    summary: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "scrmbench.summary",
        "run": run_section(run, t0, end),
        "requests": requests,
        "timeline": series,
        "accounting": accounting,
        "reply": reply,
        "reply_timeline": _reply_minutes(replies, t0) if reply else None,
        "webhooks": webhooks,
        "reported": reported,
        "report_accuracy": accuracy,
        "recovery": rec,
        "degradation": side["degradation"].result(),
        "capacity": (
            capacity(
                run.requests,
                t0,
                step,
                p95_target_ms=_number(run.manifest.scenario_params.get("latency_target_ms")) or options.capacity_p95_ms,
                error_target=options.capacity_error_rate,
            )
            if step
            else None
        ),
        "apdex": apdex_section,
        "cost": side["cost"].result(),
        "harness": health.section(),
        "agents": agents,
        # Per business number (analysis/numbers.py); null for runs whose records name no number.
        "numbers": side["numbers"].result(),
        "unmeasured": unmeasured,
        "sla": None,
    }
    summary = _clean(summary)
    if sla is not None:
        evidence = Evidence(
            summary,
            run.requests,
            messages,
            replies,
            run.webhooks,
            t0,
            harness=health,
            conversations=conversations,
            vendor_events=run.vendor_events if run.has_vendor_events else None,
            orders={"latency_ms": orders.result()["latency"], "corrected_latency_ms": orders.result()["corrected"]},
        )
        summary["sla"] = _clean(evaluate(sla, evidence))
    return summary


class _InOrder:
    """``ThreadPoolExecutor``'s ``submit`` and ``shutdown`` run at once on the calling thread (a big run's figures
    one after another, see ``SIDE_THREAD_MAX_RECORDS``); an error is kept in the future, raised by ``result()``."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # handed to the caller through the future, as a pool would
            future.set_exception(exc)
        return future

    def shutdown(self, wait: bool = True) -> None:
        return None


def _reply_minutes(replies: Any, t0: float) -> dict[str, list[Any]]:
    """Per-minute p95 of reply latency by the minute the customer's message was delivered."""
    answered = replies[replies["replied_at"].notna()]
    if answered.empty:
        return {"t": [], "count": [], "p95_ms": []}
    minute = np.floor((answered["delivered_at"].to_numpy(dtype="float64") - t0) / 60.0).astype("int64")
    keys, counts, p95 = grouped_percentiles(minute, answered["reply_ms"].to_numpy(dtype="float64"), (95.0,))
    return {"t": (keys * 60.0).tolist(), "count": counts.tolist(), "p95_ms": p95.tolist()}
