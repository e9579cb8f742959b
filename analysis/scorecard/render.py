"""Write a Scorecard as one self-contained HTML page, or as Markdown, JSON or CSV for procurement files.

HTML: jinja2 with autoescape on, plotly.js embedded inline, and a Content-Security-Policy that allows only the
page's own two scripts (by hash) and no network at all, so even text a vendor slipped past escaping could not
run or phone home.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import hashlib
import io
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jinja2
import plotly.offline

from analysis.scorecard.build import ACCOUNTING_KEYS
from analysis.scorecard.model import Scorecard, VendorCost
from ground.version import __version__

Format = Literal["html", "md", "json", "csv"]
FORMATS: tuple[str, ...] = ("html", "md", "json", "csv")


@cache
def _asset(name: str) -> str:
    return resources.files("analysis.scorecard").joinpath("templates", name).read_text(encoding="utf-8")


@cache
def _plotly_js() -> str:
    return str(plotly.offline.get_plotlyjs())


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_asset),
        autoescape=True,  # every vendor-supplied string is text, whatever it contains
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )


def render_html(card: Scorecard) -> str:
    plotly_js, boot_js = _plotly_js(), _asset("boot.js")
    csp = (
        "default-src 'none'; "
        f"script-src {_sha256(plotly_js)} {_sha256(boot_js)}; "
        "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; connect-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )
    figures_json = "{" + ",".join(f"{json.dumps(c.id)}:{c.spec}" for c in card.charts) + "}"
    template = _environment().get_template("scorecard.html.j2")
    return template.render(
        card=card,
        csp=csp,
        css=_asset("scorecard.css"),
        plotly_js=plotly_js,
        boot_js=boot_js,
        figures_json=figures_json,
        accounting_keys=[k for k in ACCOUNTING_KEYS if any(k in row.counts for row in card.accounting)],
        version=__version__,
        verdict_words=VERDICT_WORDS,
        decided_words=decided_words,
        validity_words=VALIDITY_MARKS,
        set_aside_words=SET_ASIDE_WORDS,
    )


# The two verdicts that are neither a pass nor a failure, in the words every format shows them with.
VERDICT_WORDS = {
    "INCONCLUSIVE": "too little data to decide (run longer or repeat the run), or measured while the harness itself "
    "was saturated (see Test validity); not a pass",
    "INCOMPLETE": "a run did not complete; its figures are partial; not a pass",
}


# How the Markdown export marks a run's test validity (the page uses the same green, amber and grey lights).
VALIDITY_MARKS = {"healthy": "valid", "bound": "HARNESS-BOUND", "not_measured": "not measured"}
# Under an inconclusive cell: why it is undecided, when not for too few samples.
SET_ASIDE_WORDS = {"harness_bound": "harness-bound: not the vendor's", "cut_short": "cut short: run it again"}


# Under the cost table of every format.
COST_WORDS = (
    "What Meta would charge for the messages delivered (a failed message is never charged); unpriced markets or "
    "categories are counted apart, never as free, and make the figures lower bounds (≥)."
)


def decided_words(share: float | None) -> str:
    """ " over the decided 83% of the weight" when some criteria were undecided, else nothing."""
    return f" over the decided {share * 100:.0f}% of the weight" if share is not None and share < 0.9995 else ""


def _md(text: object) -> str:
    """Text for a Markdown table cell: no pipes, no raw HTML, one line."""
    value = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(card: Scorecard) -> str:
    names = [v.name for v in card.vendors]
    lines = [
        f"# {_md(card.title)}",
        "",
        f"SLA: {_md(card.sla_name)} · generated {card.generated_at}",
        "",
        "## Verdict",
        "",
    ]
    for v in card.vendors:
        score = f"{v.score:.0f}/100{decided_words(v.decided_share)}" if v.score is not None else "–"
        why = "; ".join(v.reasons) if v.reasons else "met every criterion it was measured on"
        tie = f" (rank shared: {_md(v.rank_note)})" if v.rank_note else ""
        lines.append(f"- #{v.rank_label or v.rank} **{v.verdict}** {_md(v.name)}, {score}: {_md(why)}{tie}")
    if {v.verdict for v in card.vendors} & set(VERDICT_WORDS):
        lines += [""] + [f"{verdict}: {words}" for verdict, words in VERDICT_WORDS.items()]
    lines += [
        "",
        "## Headline figures",
        "",
        "| Figure | Target | " + " | ".join(_md(n) for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for row in card.headline:
        cells = [
            row.cells[n].measured + (f" ({row.cells[n].interval})" if row.cells[n].interval else "") for n in names
        ]
        lines.append(f"| {_md(row.label)} | {_md(row.target)} | " + " | ".join(_md(c) for c in cells) + " |")
    lines += [
        "",
        "## Criteria",
        "",
        "| Criterion | Weight | " + " | ".join(_md(n) for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for key, label, weight, critical in card.criteria_columns:
        cells = []
        for n in names:
            c = card.cell(n, key)
            cells.append(f"{c.status.upper()} {c.measured}" if c else "not run")
        lines.append(
            f"| {_md(label)}{' (critical)' if critical else ''} | {weight:g} | "
            + " | ".join(_md(c) for c in cells)
            + " |"
        )
    lines += ["", "## Runs", "", "| Run | Vendor | Scenario | Verdict | Score | Why |", "|---|---|---|---|---|---|"]
    for r in card.runs:
        score = f"{r.score:.0f}{decided_words(r.decided_share)}" if r.score is not None else "–"
        lines.append(
            "| " + " | ".join(_md(x) for x in (r.run_id, r.vendor, r.scenario, r.verdict, score, r.why or "–")) + " |"
        )
    lines += ["", "## Test validity", ""]
    lines += [f"- {VALIDITY_MARKS[r.validity.status]} `{_md(r.run_id)}`: {_md(r.validity.text)}" for r in card.runs]
    lines += ["", "## Head to head", ""] + [f"- {_md(s)}" for s in card.head_to_head or ["one vendor only"]]
    lines += ["", "## Cost", ""]
    if any(c.status != "not_measured" for c in card.costs):
        lines += ["| Vendor | Per 1,000 delivered | Duplicates | Priced |", "|---|---|---|---|"]
        lines += [
            "| " + " | ".join(_md(x) for x in (c.vendor, c.per_1000, c.duplicates, c.priced)) + " |" for c in card.costs
        ]
        cards = sorted({c.card for c in card.costs if c.card})
        lines += ["", f"Rate card: {_md('; '.join(cards) or 'none')}. {COST_WORDS}"]
    else:
        lines.append("Cost not measured: no run in this set had a priced ledger.")
    for report in card.reported:
        lines += ["", f"## Reported by the vendor (not verified): {_md(report.vendor)}, run {_md(report.run_id)}", ""]
        lines += ["| Figure | Reported |", "|---|---|"] + [f"| {_md(k)} | {_md(v)} |" for k, v in report.figures]
        if report.accuracy:
            lines += ["", "| How truthful | Reported / true |", "|---|---|"]
            lines += [
                f"| {_md(k)} | {'**' if bad else ''}{_md(v)}{'**' if bad else ''} |" for k, v, bad in report.accuracy
            ]
        if report.receiver:
            lines += ["", f"Callback receiver: {_md(report.receiver)}."]
    lines += ["", "## Test conditions", ""]
    lines += [f"- {k}: {_md(v)}" for k, v in card.conditions.items() if k not in ("unmeasured", "versions")]
    lines.append("- versions: " + _md(", ".join(f"{k} {v}" for k, v in card.conditions["versions"].items())))
    for vendor, items in card.conditions["unmeasured"].items():
        lines += [f"- not measured for {_md(vendor)}: {_md(what)}: {_md(why)}" for what, why in items.items()]
    return "\n".join(lines) + "\n"


def as_dict(card: Scorecard) -> dict[str, Any]:
    data = dataclasses.asdict(card)
    data["charts"] = [{"id": c.id, "section": c.section, "title": c.title} for c in card.charts]
    data["schema"] = "scrmbench.scorecard/1"
    return data


def render_json(card: Scorecard) -> str:
    return json.dumps(as_dict(card), indent=2, ensure_ascii=False, default=str) + "\n"


def _cell(value: object) -> object:
    """Defuse spreadsheet formulas: a vendor text starting with = + - @ must not run in Excel."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


CSV_COLUMNS = (
    "vendor",
    "rank",
    "verdict",
    "score",
    "scenario",
    "criterion",
    "weight",
    "critical",
    "target",
    "measured",
    "interval",
    "status",
    "reason",
    "run_id",
    "run_verdict",
    "decided_weight_share",
    "cost_per_1000_delivered_usd",
    "duplicates_cost_usd",
    "cost_priced",
)


def _cost_cells(cost: VendorCost | None) -> tuple[object, object, str]:
    """The vendor's cost columns: empty where not priced (never 0), and how far it is priced in words."""
    if cost is None:
        return "", "", ""
    per_1000 = "" if cost.per_1000_usd is None else cost.per_1000_usd
    duplicates = "" if cost.duplicates_usd is None else cost.duplicates_usd
    return per_1000, duplicates, f"{cost.status}: {cost.priced}"


def render_csv(card: Scorecard) -> str:
    """One row per criterion of a run; ``verdict``/``score`` are the vendor's, ``run_verdict`` its run's, the cost
    columns the vendor's (``VendorCost``: empty where not priced, the status says why)."""
    run_verdicts = {r.run_id: r.verdict for r in card.runs}
    costs = {c.vendor: c for c in card.costs}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for v in card.vendors:
        for c in v.criteria or []:
            writer.writerow(
                [
                    _cell(x)
                    for x in (
                        v.name,
                        v.rank_label or v.rank,
                        v.verdict,
                        v.score,
                        c.scenario,
                        c.label,
                        c.weight,
                        c.critical,
                        c.target,
                        c.measured,
                        c.interval,
                        c.status,
                        c.reason,
                        c.run_id,
                        run_verdicts.get(c.run_id, ""),
                        v.decided_share,
                        *_cost_cells(costs.get(v.name)),
                    )
                ]
            )
        if not v.criteria:
            head = [_cell(x) for x in (v.name, v.rank_label or v.rank, v.verdict, v.score)]
            writer.writerow([*head, *[""] * 11, v.decided_share, *_cost_cells(costs.get(v.name))])
    return out.getvalue()


RENDERERS = {"html": render_html, "md": render_markdown, "json": render_json, "csv": render_csv}


def write(card: Scorecard, path: Path, fmt: str = "html") -> Path:
    text = RENDERERS[fmt](card)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a scorecard
    return path
