"""SLA files, presets and verdicts (design.md "Scoring"; chaos-and-scoring-anchors.md §2.1 Keptn, §3.2).

An SLA file is YAML: a name and a list of criteria (metric, aggregation, target, comparison, warn, weight,
critical, min_samples, scope, source). Each criterion of a run gets a status:

    pass          the measured value meets the target                                 1 point
    warn          it misses the target but meets the warn bound                       0.5
    fail          it meets neither                                                    0
    inconclusive  fewer than min_samples, or the 95% interval straddles the target    undecided (shown grey)
    not_applicable  the run has nothing to measure it by (no fault, no inbound...)    left out of the score

A measured figure that is no counted fact (``MetricDef.counted``: lost_messages, duplicated_messages,
duplicate_rate, recovery_point_s) is **set aside**, made inconclusive with the reason, when the harness rather than
the vendor may have made it (``set_aside`` in its row, the status it had in ``status_as_measured``):

    harness_bound  the run was harness-bound (over 5% of its load window's seconds, ``analysis.harness_health``):
                   any pass, warn or fail; or, in any run, a fail or warn most of whose samples missing the target
                   fall in harness-bound seconds (latencies, and request or delivery rates per request)
    cut_short      the run is partial and the figure failed or warned: capacity, rates, drift, recovery and
                   latency can all be spoiled by the cut; a pass stays a pass of what was recorded

Counted facts keep their status: a lossy vendor under a CPU hog still fails on its lost messages.

score = 100 × Σ w·points / Σ w over the **decided** criteria (pass, warn, fail). An undecided criterion is not
half a failure: it is left out of the score, like Kayenta's "nodata" (chaos-and-scoring-anchors.md §3.2 names
both choices; this is the documented pick). It still bounds the verdict: with the undecided weight U and the
decided weight D, the score could end anywhere between "all undecided fail" and "all undecided pass".
Bands: ≥ 90 PASS, ≥ 75 CONDITIONAL, else FAIL. The verdict, in order:

    FAIL          a critical criterion failed (Keptn key_sli), or nothing could be measured, or even
                  "all undecided pass" stays below the conditional band
    INCONCLUSIVE  a critical criterion is undecided, or the undecided criteria could change the band and carry
                  more than ``bands.min_decided`` (default half) of the weight: "needs more runs/samples"
    the band      of the decided score otherwise (every reason still lists the undecided criteria)
    INCOMPLETE    instead of PASS, CONDITIONAL or INCONCLUSIVE when the run is partial (did not complete):
                  a cut-short run never passes; a FAIL it already shows stays FAIL, unless it is the FAIL of
                  "nothing could be measured" (a run cut short before it recorded anything shows no failure).
                  Since the cut sets aside every failing figure but the counted facts, a partial run FAILs
                  only on a counted fact in what it recorded (lost or duplicated messages)

A harness-bound run (over 5% of its seconds) never PASSes or is CONDITIONAL either: INCONCLUSIVE, its load was
not the planned load. Whenever the harness set a figure aside and the verdict is not FAIL, the first reason is the
harness-bound one ("harness-bound: the load generator was saturated for 37% of the run (CPU 100%, loop lag p95
180 ms); run fewer trials at once, ..."), after the partial-run reason of an INCOMPLETE run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from analysis.harness_health import HarnessHealth
from analysis.sla_metrics import METRICS, Evidence, Measurement, aggregation_allowed, under_vendor_cpu
from analysis.units import format_value
from ground.errors import ConfigError
from ground.loading import load_model, parse_yaml, validate
from plan.operations import OPERATIONS

Status = Literal["pass", "warn", "fail", "inconclusive", "not_applicable"]
POINTS: dict[str, float] = {"pass": 1.0, "warn": 0.5, "fail": 0.0}
VERDICTS = ("PASS", "CONDITIONAL", "FAIL", "INCONCLUSIVE", "INCOMPLETE")
PRESETS = ("standard", "enterprise")


# What a criterion's ``scope.operation`` may name: the recorded ``operation`` of a request (``plan.operations``).
SCOPE_OPERATIONS: tuple[str, ...] = (*OPERATIONS, "customer_message")


class Scope(BaseModel):
    """What a criterion measures: one operation, one scenario, one fault, the seconds of high vendor CPU.

    ``operation`` is checked here against ``plan.operations``; ``scenario`` and ``fault`` name scenarios and
    faults that live above analysis, so the harness checks them where it loads an SLA (``check_scope_names``).
    A typo in any of them would otherwise make the criterion "not applicable" and drop its target in silence."""

    model_config = ConfigDict(extra="forbid")

    operation: str | None = None
    scenario: str | None = None
    fault: str | None = None
    # Only the seconds the vendor's processes used at least this much CPU (% of one core, summed over its
    # processes, as ``top`` shows it), e.g. market figure #10 "95% delivery at 85% CPU". Rate metrics only.
    when_vendor_cpu_at_least: float | None = Field(default=None, gt=0, le=100_000)

    @field_validator("operation")
    @classmethod
    def _known_operation(cls, value: str | None) -> str | None:
        if value is not None and value not in SCOPE_OPERATIONS:
            raise PydanticCustomError(
                "unknown_name", "unknown operation; the operations are {names}", {"names": ", ".join(SCOPE_OPERATIONS)}
            )
        return value


class CriterionSpec(BaseModel):
    """One SLA criterion. Unknown keys are refused (a typo must not silently drop a target)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    title: str | None = None
    metric: str
    aggregation: str = "value"
    target: float
    comparison: Literal["<=", ">="] | None = None  # default: the metric's better direction
    warn: float | None = None
    weight: float = Field(1.0, gt=0, le=1000)
    critical: bool = False
    min_samples: int = Field(1, ge=0)
    scope: Scope | None = None  # a bare string is an operation name
    source: str = ""

    @field_validator("scope", mode="before")
    @classmethod
    def _bare_operation(cls, value: Any) -> Any:
        return {"operation": value} if isinstance(value, str) else value

    @field_validator("target", "warn")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in METRICS:
            raise ValueError(f"unknown metric; known metrics: {', '.join(sorted(METRICS))}")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> CriterionSpec:
        metric = METRICS[self.metric]
        if "aggregation" not in self.model_fields_set and not aggregation_allowed(metric, self.aggregation):
            # No aggregation given: the metric's natural one (p95 for latencies, count for counts).
            self.aggregation = {"pNN": "p95"}.get(metric.aggregations[0], metric.aggregations[0])
        if not aggregation_allowed(metric, self.aggregation):
            raise ValueError(
                f"aggregation {self.aggregation!r} does not apply to {self.metric}; use one of "
                f"{', '.join(metric.aggregations)} (percentiles as p50, p95, p99.9, at most p100)"
            )
        for name in ("target", "warn"):
            value = getattr(self, name)
            if value is None:
                continue
            if metric.bounded_ratio and not 0 <= value <= 1:
                raise ValueError(f"{name} {value} is a share and must lie between 0 and 1 (write 1% as 0.01)")
            if value < 0 and not metric.may_be_negative:
                raise ValueError(f"{name} {value} is negative; a {metric.label} cannot be")
        if self.warn is not None:
            looser = self.warn >= self.target if self.direction == "<=" else self.warn <= self.target
            if not looser:
                raise ValueError(f"warn {self.warn} must be looser than target {self.target} ({self.direction})")
        reported_source = self.source.strip().lower().startswith("reported")
        if metric.reported and not reported_source:
            raise ValueError(
                f"{self.metric} is reported by the vendor, not verified by the harness; a criterion may use it only "
                "when it says so: add source: reported (or 'reported: <where the target comes from>')"
            )
        if reported_source and not metric.reported:
            reported = ", ".join(name for name, m in METRICS.items() if m.reported)
            raise ValueError(
                f"source: reported marks a figure the vendor reports, but {self.metric} is measured by the harness; "
                f"drop source: reported, or use one of {reported}"
            )
        if self.scope_model.when_vendor_cpu_at_least is not None and not metric.vendor_cpu_scoped:
            scoped = ", ".join(name for name, m in METRICS.items() if m.vendor_cpu_scoped)
            raise ValueError(
                f"scope when_vendor_cpu_at_least restricts a rate to the seconds the vendor's CPU was that high; "
                f"{self.metric} cannot be restricted so: use one of {scoped}"
            )
        return self

    @property
    def direction(self) -> str:
        return self.comparison or METRICS[self.metric].direction

    @property
    def scope_model(self) -> Scope:
        return self.scope or Scope()


class Bands(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pass_: float = Field(90.0, alias="pass", ge=0, le=100)
    conditional: float = Field(75.0, ge=0, le=100)
    # Share of the applicable weight that must be decided before undecided criteria may stay out of the verdict.
    min_decided: float = Field(0.5, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Bands:
        if self.conditional > self.pass_:
            raise ValueError("the conditional band must not be above the pass band")
        return self


class SlaSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    bands: Bands = Field(default_factory=lambda: Bands.model_validate({}))
    criteria: list[CriterionSpec] = Field(min_length=1)
    source: str = ""  # filled by the loader: preset name or file path
    notes: list[str] = Field(default_factory=list)  # how the SLA was chosen, when not as asked (shown with it)

    @model_validator(mode="after")
    def _unique_ids(self) -> SlaSpec:
        seen: set[str] = set()
        for index, criterion in enumerate(self.criteria):
            if criterion.id is None:
                scope = criterion.scope_model.operation or criterion.scope_model.scenario
                criterion.id = f"{criterion.metric}.{criterion.aggregation}" + (f".{scope}" if scope else "")
                cpu = criterion.scope_model.when_vendor_cpu_at_least
                criterion.id += f".cpu{cpu:g}" if cpu is not None else ""
            if criterion.id in seen:
                criterion.id = f"{criterion.id}.{index + 1}"
            seen.add(criterion.id)
        return self


@dataclass(frozen=True)
class ScopeNames:
    """The scenario and fault names a criterion's scope may name. Analysis sits below the scenarios and the
    faults, so the harness passes them where it loads an SLA (``harness.config.sla.scope_names``)."""

    scenarios: tuple[str, ...]
    faults: tuple[str, ...]


def check_scope_names(spec: SlaSpec, names: ScopeNames) -> SlaSpec:
    """``spec`` when every ``scope.scenario`` and ``scope.fault`` is a known name; a ``ConfigError`` naming the
    SLA, the criterion's field, the name and the known ones otherwise (a typo must not drop a target)."""
    for index, criterion in enumerate(spec.criteria):
        scope = criterion.scope_model
        for key, known in (("scenario", names.scenarios), ("fault", names.faults)):
            value = getattr(scope, key)
            if value is not None and value not in known:
                raise ConfigError(
                    f"unknown {key}: the criterion {criterion.id!r} would never apply and its target would be dropped",
                    source=spec.source or None,
                    field=f"criteria.{index}.scope.{key}",
                    value=value,
                    fix=f"use one of: {', '.join(sorted(known))}",
                )
    return spec


def load_sla(path: Path | str) -> SlaSpec:
    spec = load_model(SlaSpec, path)
    return spec.model_copy(update={"source": str(path)})


def load_preset(name: str) -> SlaSpec:
    if name not in PRESETS:
        raise ConfigError(
            "unknown SLA preset", field="--sla", value=name, fix=f"use one of {', '.join(PRESETS)} or a YAML file path"
        )
    text = resources.files("analysis.presets").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    spec = validate(SlaSpec, parse_yaml(text, source=f"preset {name}"), source=f"preset {name}")
    return spec.model_copy(update={"source": f"preset:{name}"})


def resolve_sla(value: str) -> SlaSpec:
    """``--sla`` value: a preset name, else a path to a YAML file."""
    if value in PRESETS:
        return load_preset(value)
    path = Path(value)
    if not path.exists():
        raise ConfigError(
            "no such SLA preset or file",
            field="--sla",
            value=value,
            fix=f"use {' or '.join(PRESETS)} or an existing YAML file",
        )
    return load_sla(path)


def sla_from_criteria(name: str, criteria: list[dict[str, Any]], *, source: str) -> SlaSpec:
    """Build an SLA from a scenario's default criteria (``Criterion.as_dict()``), validated like a file."""
    return validate(SlaSpec, {"name": name, "criteria": criteria}, source=source).model_copy(update={"source": source})


def _meets(value: float, bound: float, direction: str) -> bool:
    return value <= bound if direction == "<=" else value >= bound


def _status(c: CriterionSpec, m: Measurement) -> Status:
    assert m.value is not None
    if m.samples < c.min_samples:
        return "inconclusive"
    if m.ci95 is not None:
        lo, hi = m.ci95
        if _meets(lo, c.target, c.direction) != _meets(hi, c.target, c.direction):
            return "inconclusive"
    if _meets(m.value, c.target, c.direction):
        return "pass"
    if c.warn is not None and _meets(m.value, c.warn, c.direction):
        return "warn"
    return "fail"


def _reason(c: CriterionSpec, m: Measurement, status: Status, set_aside: str | None = None) -> str:
    metric = METRICS[c.metric]
    plain = c.aggregation in ("value", "count", "ratio", "rate", "max", "theil_sen") or c.aggregation.startswith(
        "delivery_"
    )
    what = c.title or (metric.label if plain else f"{c.aggregation} {metric.label}")
    scope = c.scope_model.operation
    where = f" ({scope})" if scope else ""
    if status == "not_applicable":
        return f"{what}{where} not measured: {m.detail or 'nothing to measure in this run'}"
    measured = "not reached" if m.value == float("inf") else format_value(m.value, metric.unit, distinct_from=c.target)
    target = f"target {'≤' if c.direction == '<=' else '≥'} {format_value(c.target, metric.unit)}"
    detail = f"; {m.detail}" if m.detail else ""
    if status == "inconclusive":
        if set_aside is not None:
            why = set_aside
        elif m.samples < c.min_samples:
            why = f"only {m.samples} samples, {c.min_samples} needed"
        elif m.ci95 is not None and not math.isfinite(m.ci95[1]):
            why = f"{m.detail}: the load never went high enough to tell"
        else:
            interval = "–".join(format_value(v, metric.unit) for v in (m.ci95 or ()))
            why = f"the 95% interval {interval} straddles the target: needs more samples or runs"
        return f"{what}{where} {measured}, {target}: inconclusive ({why})"
    return f"{what}{where} was {measured}, {target}{detail}"


def _failing_in_bound(c: CriterionSpec, m: Measurement, harness: HarnessHealth) -> float | None:
    """Share of the samples missing the target that fall in harness-bound seconds (None: no per-sample data)."""
    if m.values is None or m.times is None or not harness.bound_seconds:
        return None
    values = np.asarray(m.values, dtype="float64")
    missing = ~(values <= c.target if c.direction == "<=" else values >= c.target)
    if not missing.any():
        return None
    return float(harness.bound_at(np.asarray(m.times)[missing]).mean())


def _set_aside(c: CriterionSpec, m: Measurement, status: Status, evidence: Evidence) -> tuple[str, str, str] | None:
    """(why, its words, the same without the fix) when a decided figure that is no counted fact cannot be held
    against the vendor: ``harness_bound`` (the run was, or most of the samples missing the target fell in bound
    seconds) or ``cut_short`` (a failing or warned figure of a partial run); None otherwise."""
    if status not in POINTS or METRICS[c.metric].counted:
        return None
    harness = evidence.harness
    if harness is not None and harness.measured:
        if harness.bound:
            return "harness_bound", str(harness.bound_reason()), str(harness.bound_reason(advice=False))
        share = _failing_in_bound(c, m, harness) if status in ("fail", "warn") else None
        if share is not None and share > harness.thresholds.failing_in_bound_share:
            words = harness.failing_samples_reason(share)
            return "harness_bound", words, harness.failing_samples_reason(share, advice=False)
    run = evidence.summary.get("run") or {}
    if status in ("fail", "warn") and run.get("partial"):
        why = "; ".join(run.get("partial_reasons") or []) or "the run did not complete"
        words = f"cut short: {why}; a figure the cut could have spoiled is not held against the vendor"
        return "cut_short", words, words
    return None


def evaluate_criterion(c: CriterionSpec, evidence: Evidence) -> dict[str, Any]:
    metric = METRICS[c.metric]
    scope = c.scope_model
    run = evidence.summary["run"]
    if scope.scenario is not None and scope.scenario != run["scenario"]:
        m = Measurement(None, 0, detail=f"applies to the {scope.scenario} scenario only")
    else:
        narrowed: Evidence | Measurement = evidence
        if scope.when_vendor_cpu_at_least is not None:
            narrowed = under_vendor_cpu(evidence, scope.when_vendor_cpu_at_least)
        if isinstance(narrowed, Measurement):
            m = narrowed
        else:
            m = metric.resolver(narrowed, c.aggregation, scope.operation or scope.fault)
    status: Status = "not_applicable" if m.value is None else _status(c, m)
    as_measured = status
    set_aside, set_aside_reason, short = _set_aside(c, m, status, evidence) or (None, None, None)
    if set_aside is not None:
        status = "inconclusive"
    return {
        "id": c.id,
        "title": c.title or metric.label,
        "metric": c.metric,
        "aggregation": c.aggregation,
        "scope": scope.model_dump(exclude_none=True),
        "direction": "lower" if c.direction == "<=" else "higher",
        "comparison": c.direction,
        "target": c.target,
        "warn": c.warn,
        "unit": metric.unit,
        "weight": c.weight,
        "critical": c.critical,
        "min_samples": c.min_samples,
        "measured": m.value,
        "samples": m.samples,
        "ci95": list(m.ci95) if m.ci95 else None,
        "status": status,
        "points": POINTS.get(status),
        "reason": _reason(c, m, status, short),
        "detail": m.detail,
        "source": c.source,
        "counted": metric.counted,
        "reported": metric.reported,  # the vendor's own figure, not verified (shown in its own colour)
        # Set aside (inconclusive) although measured: why ("harness_bound" / "cut_short"), in words, and the
        # status it had as measured.
        "set_aside": set_aside,
        "set_aside_reason": set_aside_reason,
        "status_as_measured": as_measured if set_aside is not None else None,
    }


def _band(score: float, bands: Bands) -> str:
    return "PASS" if score >= bands.pass_ else "CONDITIONAL" if score >= bands.conditional else "FAIL"


def _verdict(rows: list[dict[str, Any]], bands: Bands) -> tuple[str, str | None, dict[str, Any]]:
    """(verdict, the first reason when the evidence rather than a failure decided it, the score figures)."""
    decided = [r for r in rows if r["status"] in POINTS]
    undecided = [r for r in rows if r["status"] == "inconclusive"]
    d, u = sum(r["weight"] for r in decided), sum(r["weight"] for r in undecided)
    earned = sum(r["weight"] * r["points"] for r in decided)
    figures: dict[str, Any] = {
        "score": 100.0 * earned / d if d else None,
        "score_range": [100.0 * earned / (d + u), 100.0 * (earned + u) / (d + u)] if d + u else None,
        "decided_weight_share": d / (d + u) if d + u else None,
    }
    if any(r["critical"] and r["status"] == "fail" for r in rows):
        return "FAIL", None, figures
    if d + u == 0:
        return "FAIL", "no criterion could be measured in this run", figures
    if u == 0:
        return _band(figures["score"], bands), None, figures
    worst, best = (_band(x, bands) for x in figures["score_range"])
    if best == "FAIL":
        return "FAIL", None, figures
    # Criteria set aside by the harness or the cut are undecided too, but "more samples" would not decide them:
    # ``evaluate`` leads with the harness-bound or partial-run reason instead.
    short = [r for r in undecided if not r.get("set_aside")]
    noun = "criterion" if len(short) == 1 else "criteria"
    share = f"{len(short)} {noun} carrying {100 * sum(r['weight'] for r in short) / (d + u):.0f}% of the weight"
    critical = [r["id"] for r in undecided if r["critical"]]
    if critical:
        short_critical = [r["id"] for r in short if r["critical"]]
        why = f"the critical {', '.join(short_critical)} could not be decided" if short_critical else None
        return "INCONCLUSIVE", f"inconclusive: needs more runs/samples: {why}" if why else None, figures
    if worst == best or d / (d + u) >= bands.min_decided:
        band = _band(figures["score"], bands) if figures["score"] is not None else best
        note = f"{share} could not be decided: left out of the score (needs more data)"
        return band, None if worst == best or not short else note, figures
    return (
        "INCONCLUSIVE",
        f"inconclusive: needs more runs/samples: {share} could not be decided" if short else None,
        figures,
    )


def evaluate(spec: SlaSpec, evidence: Evidence) -> dict[str, Any]:
    """All criteria, the score, the band and the verdict (see the module docstring)."""
    rows = [evaluate_criterion(c, evidence) for c in spec.criteria]
    verdict, lead, figures = _verdict(rows, spec.bands)
    score = figures["score"]
    band = _band(score, spec.bands) if score is not None else "FAIL"
    critical = [r["id"] for r in rows if r["critical"] and r["status"] == "fail"]
    order = {"fail": 0, "warn": 1, "inconclusive": 2}
    flagged = sorted(
        (r for r in rows if r["status"] in order), key=lambda r: (not r["critical"], order[r["status"]], -r["weight"])
    )
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("pass", "warn", "fail", "inconclusive")}
    counts["not_applicable"] = sum(1 for r in rows if r["status"] == "not_applicable")
    reasons = [("CRITICAL: " if r["critical"] and r["status"] == "fail" else "") + r["reason"] for r in flagged]
    harness = evidence.harness
    bound = harness is not None and harness.bound
    held = [r for r in rows if r["set_aside"] == "harness_bound"]
    harness_lead = harness.reason if bound and harness is not None else held[0]["set_aside_reason"] if held else None
    if bound and verdict in ("PASS", "CONDITIONAL"):
        verdict = "INCONCLUSIVE"  # its load was not the planned load: a harness-bound run cannot pass either
    if lead is not None:
        reasons.insert(0, lead)
    if harness_lead is not None and verdict != "FAIL":
        reasons.insert(0, harness_lead)
    run = evidence.summary.get("run") or {}
    partial = bool(run.get("partial"))
    nothing_measured = all(r["status"] == "not_applicable" for r in rows)
    if partial and (verdict != "FAIL" or nothing_measured):
        verdict = "INCOMPLETE"
        why = "; ".join(run.get("partial_reasons") or []) or "the run did not complete"
        reasons.insert(0, f"run is partial ({why}): a cut-short run cannot pass; run it again to the end")
    undecided_only = verdict != "PASS" and counts["inconclusive"] > 0 and counts["fail"] == counts["warn"] == 0
    return {
        "name": spec.name,
        "source": spec.source,
        "description": spec.description,
        "notes": list(spec.notes),
        "score": score,
        "score_range": figures["score_range"],
        "decided_weight_share": figures["decided_weight_share"],
        "band": band,
        "verdict": verdict,
        "met": verdict == "PASS",
        "partial": partial,
        "harness_bound": bool(held) or bound,
        "critical_failures": critical,
        "reasons": reasons,
        "inconclusive_only": undecided_only,
        "counts": counts,
        "bands": {
            "pass": spec.bands.pass_,
            "conditional": spec.bands.conditional,
            "min_decided": spec.bands.min_decided,
        },
        "criteria": rows,
    }
