"""What the scorecard shows, as plain data: built once, rendered as HTML, Markdown, JSON or CSV.

The view is assembled from each run's ``summary.json`` (analysis) and record frames; nothing here computes a
verdict of its own: the verdict, score and criteria statuses are the analysis's, the scorecard only arranges
them for a reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "warn", "fail", "inconclusive"]
# Was the run a valid test of the vendor? healthy (green), harness-bound (amber), not measured (grey: no health data).
ValidityStatus = Literal["healthy", "bound", "not_measured"]
Verdict = Literal["PASS", "CONDITIONAL", "INCONCLUSIVE", "INCOMPLETE", "FAIL"]
# One order for both uses: a vendor's verdict is its worst run's (the highest here: any FAIL fails it; else a run
# that did not complete makes it INCOMPLETE; else an undecided run INCONCLUSIVE; else CONDITIONAL or PASS), and
# vendors rank by it, lowest first: a decided pass above an undecided one, a shown failure last.
VERDICT_ORDER: dict[str, int] = {"PASS": 0, "CONDITIONAL": 1, "INCONCLUSIVE": 2, "INCOMPLETE": 3, "FAIL": 4}


@dataclass(frozen=True)
class Criterion:
    """One SLA criterion's result for one run."""

    id: str
    label: str
    scenario: str
    metric: str
    target: str  # as a reader sees it: "≤ 2,000 ms"
    measured: str  # "8,400 ms" or "not measured"
    interval: str  # "95% CI 7,900–8,900 ms" or ""
    status: Status
    weight: float
    critical: bool
    reason: str  # plain words for a failure; "needs more runs" for inconclusive
    value: float | None = None
    samples: int | None = None
    aggregation: str = ""
    operation: str = ""  # the criterion's scope, when it judges one operation only (e.g. upload_media)
    run_id: str = ""  # the run it was judged in
    set_aside: str = (
        ""  # "harness_bound" / "cut_short": measured, but the analysis would not hold it against the vendor
    )
    reported: bool = False  # the vendor's own figure (source: reported), not verified by the harness


@dataclass(frozen=True)
class HeadlineCell:
    measured: str
    interval: str = ""
    status: Status | None = None


@dataclass(frozen=True)
class HeadlineRow:
    """One headline figure: its target and, per vendor, what was measured."""

    key: str
    label: str
    target: str
    cells: dict[str, HeadlineCell]


@dataclass(frozen=True)
class Accounting:
    run_id: str
    vendor: str
    scenario: str
    counts: dict[str, int | float | None]


@dataclass(frozen=True)
class ReportedRow:
    """One run's "reported by the vendor (not verified)" figures, and how truthful they were when the truth is known."""

    run_id: str
    vendor: str
    scenario: str
    figures: list[tuple[str, str]]  # (what, value in words)
    accuracy: list[tuple[str, str, bool]]  # (what, value in words, a lie worth flagging); empty: no truth to check
    receiver: str  # the callback receiver's counts in words


@dataclass(frozen=True)
class ErrorRow:
    """One kind of error a run saw, with an example of the vendor's own words (shown as text, never markup)."""

    run_id: str
    vendor: str
    scenario: str
    kind: str
    code: str
    count: int
    example_text: str
    example_id: str


@dataclass(frozen=True)
class Validity:
    """The "test validity" line of one run: was the harness itself healthy while it measured the vendor?"""

    status: ValidityStatus
    text: str


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    vendor: str
    scenario: str
    started: str
    duration_s: float | None
    complete: bool
    load: str  # "open model, 40/s for 120 s" in words
    faults: list[str]
    notes: list[str]
    verdict: str = ""  # the analysis's verdict of this run (summary.json sla.verdict)
    score: float | None = None  # the analysis's score of this run, over its decided criteria
    decided_share: float | None = None  # share of the applicable weight decided in this run
    why: str = ""  # the analysis's first reason, when the run did not plainly pass
    validity: Validity = Validity("not_measured", "")


@dataclass
class VendorResult:
    name: str
    verdict: Verdict
    score: float | None
    rank: int
    reasons: list[str]
    runs: list[str]
    criteria: list[Criterion] = field(default_factory=list)
    unmeasured: dict[str, str] = field(default_factory=dict)
    rank_label: str = ""  # "2" or "2=" when not separated from a neighbour
    rank_note: str = ""  # why it shares its rank, in words
    decided_share: float | None = None  # share of the applicable weight decided over its runs (1 = all)
    score_range: tuple[float, float] | None = None  # where the score could end once the undecided are decided

    @property
    def passed(self) -> bool:
        return self.verdict == "PASS"


@dataclass(frozen=True)
class VendorCost:
    """What a vendor's traffic cost over its runs (``analysis.cost.pool`` of their summaries' ``cost``), in words
    and in numbers. A figure the card could not price is "not priced", never $0; a partly priced one is a lower
    bound ("≥") with the unpriced share beside it."""

    vendor: str
    status: str  # priced | partly_priced | unpriced | not_measured
    per_1000: str  # "$12.50", "≥ $9.80", "not priced", "not measured"
    duplicates: str  # "$0.08 (4 charged copies)", "none", "price unknown (3 charged copies)"…
    priced: str  # how much of it the card priced, in words
    card: str  # the rate card's name, source and date ("" when not measured)
    per_1000_usd: float | None = None
    duplicates_usd: float | None = None
    unpriced_share: float | None = None


@dataclass(frozen=True)
class Chart:
    id: str
    section: str
    title: str
    caption: str
    spec: str  # the plotly figure as JSON ("<" escaped); drawn by the page's one script


@dataclass
class Scorecard:
    title: str
    generated_at: str
    sla_name: str
    vendors: list[VendorResult]
    headline: list[HeadlineRow]
    criteria_columns: list[tuple[str, str, float, bool]]  # (key, label, weight, critical)
    head_to_head: list[str]
    accounting: list[Accounting]
    runs: list[RunInfo]
    conditions: dict[str, Any]
    errors: list[ErrorRow] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    omitted_charts: list[str] = field(default_factory=list)
    costs: list[VendorCost] = field(default_factory=list)
    reported: list[ReportedRow] = field(default_factory=list)

    def cell(self, vendor: str, key: str) -> Criterion | None:
        """The criterion ``key`` (scenario/id) of ``vendor``, for the grid."""
        for vendor_result in self.vendors:
            if vendor_result.name == vendor:
                return next((c for c in vendor_result.criteria if f"{c.scenario}/{c.id}" == key), None)
        return None
