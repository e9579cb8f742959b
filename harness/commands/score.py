"""``scrmbench score RUN_DIR [--sla PRESET|FILE]`` (``scrmbench compare`` is in ``harness.commands.compare``).

score: load the run, build ``summary.json`` (docs/summary-schema.md), write it with CSV exports of the headline
tables beside it (``analysis.exports``), print a table. Exit codes (``sla_exit_code``): 0
when the verdict is PASS on a complete run, 1 when the SLA was not met, 4 when the run is partial, 5 when the
SLA could not be decided on this much data (INCONCLUSIVE), 2 on bad input (an SLA file with a bad field, a
scope naming no known operation, scenario or fault, a RUN_DIR that is no folder), 3 when the folder cannot be
analysed.

The SLA is chosen by ``analysis.sla_choice.choose_sla`` (``--sla``; the manifest's ``sla``; the scenario's default
criteria; the ``standard`` preset, with a note saying why).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from analysis import exports, sla_choice
from analysis.exports import operation_rows, write_exports
from analysis.load import ANALYSIS_COLUMNS, RunData, load_run
from analysis.rates import load_rate_card
from analysis.sla import SlaSpec
from analysis.summary import AnalysisOptions, build_summary
from analysis.units import format_value
from ground.durations import duration_parser
from ground.errors import EXIT_INCONCLUSIVE, EXIT_OK, EXIT_PARTIAL, EXIT_SLA_FAILED
from ground.paths import run_folder
from harness.config.sla import scope_names
from harness.run.shards import recover_shards
from scenarios.registry import default_criteria

STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "inconclusive": "grey50", "not_applicable": "grey50"}
SIGN = {"<=": "≤", ">=": "≥"}
SCORE_EPILOG = """Examples:

  scrmbench score results/RUN_ID

  scrmbench score results/RUN_ID --sla enterprise --allow-conditional

  scrmbench score results/RUN_ID --recovery-window 5 --recovery-confirm 30

  scrmbench score results/RUN_ID --rate-card my-rates.yaml
"""
VERDICT_STYLE = {
    "PASS": "bold green",
    "CONDITIONAL": "bold yellow",
    "FAIL": "bold red",
    "INCONCLUSIVE": "bold grey50",
    "INCOMPLETE": "bold grey50",
}


def sla_exit_code(summary: dict[str, Any], *, allow_conditional: bool = False) -> int:
    """0 PASS (CONDITIONAL too when allowed) on a complete run; 4 partial run; 5 INCONCLUSIVE; else 1."""
    sla = summary.get("sla") or {}
    verdict = sla.get("verdict")
    if summary["run"]["partial"] or verdict == "INCOMPLETE":
        return EXIT_PARTIAL
    if verdict == "INCONCLUSIVE":
        return EXIT_INCONCLUSIVE
    met = verdict == "PASS" or (allow_conditional and verdict == "CONDITIONAL")
    return EXIT_OK if met else EXIT_SLA_FAILED


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    run = summary["run"]
    console.print(f"[bold]{run['run_id']}[/]  {run['vendor']} · {run['scenario']} · {run['duration_s']:.0f} s")
    if run["partial"]:
        console.print("[yellow]partial run:[/] " + "; ".join(run["partial_reasons"]), highlight=False)
    table = Table(title="Requests")
    for column in ("operation", "count", "errors", "error %", "p50", "p95", "p99", "max"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for row in operation_rows(summary):
        rate = row["error_rate"]
        table.add_row(
            row["operation"],
            str(row["count"]),
            str(row["errors"]),
            "–" if rate is None else f"{rate * 100:.2f}",
            *(format_value(row[f"{k}_ms"], "ms") for k in ("p50", "p95", "p99", "max")),
        )
    console.print(table)
    acc = summary["accounting"]
    if acc["measured"]:
        console.print(
            f"messages: {acc['attempted']} sent, {acc['acked']} acked, {acc['delivered']} delivered, "
            f"[{'red' if acc['lost'] else 'green'}]{acc['lost']} lost[/], {acc['duplicated']} duplicated, "
            f"{acc['recovered']} recovered, {acc['unresolved']} unresolved",
            highlight=False,
        )
    cost = summary.get("cost") or {}
    if cost.get("measured"):
        per_1000 = cost["cost_per_1000_delivered_usd"]
        console.print(
            f"cost: ${cost['total_usd']:.4f} for {cost['charged']} charged messages "
            f"({'–' if per_1000 is None else f'${per_1000:.2f}'} per 1,000 delivered), duplicates "
            f"${cost['duplicates']['cost_usd']:.4f}, {cost['unpriced']} unpriced "
            f"[{cost['rate_card']['name']}]",
            highlight=False,
        )
    for fault in summary["recovery"]["faults"]:
        sustained = (
            format_value(fault["ttr_sustained_s"], "s")
            if fault["recovered"]
            else f"not within the run (watched {format_value(fault['ttr_lower_bound_s'], 's')})"
        )
        console.print(
            f"fault {fault['fault_id']} ({fault['fault']}) at {format_value(fault['injected_s'], 's')}: "
            f"first success after {format_value(fault['ttr_first_s'], 's')}, sustained recovery {sustained}, "
            f"{fault['flaps']} flaps, {fault['lost_messages']} lost around it",
            highlight=False,
        )
    sla = summary["sla"]
    if not sla:
        return
    for note in sla.get("notes") or []:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    grid = Table(title=f"SLA {sla['name']} ({sla['source']})")
    for column in ("criterion", "target", "measured", "status", "weight"):
        grid.add_column(column)
    for c in sla["criteria"]:
        style = STATUS_STYLE[c["status"]]
        grid.add_row(
            c["id"] + (" ★" if c["critical"] else ""),
            f"{SIGN[c['comparison']]} {format_value(c['target'], c['unit'])}",
            format_value(c["measured"], c["unit"]),
            f"[{style}]{c['status']}[/]",
            f"{c['weight']:g}",
        )
    console.print(grid)
    score = "–" if sla["score"] is None else f"{sla['score']:.1f}"
    decided = sla.get("decided_weight_share")
    if score != "–" and decided is not None and decided < 1:
        score += f" over the decided {decided * 100:.0f}% of the weight"
    console.print(f"[{VERDICT_STYLE.get(sla['verdict'], 'bold')}]{sla['verdict']}[/] score {score}")
    for reason in sla["reasons"]:
        console.print(f"  · {reason}", highlight=False)


def score_command(
    run_dir: Path = typer.Argument(..., help="One run's results folder (results/<run-id>)."),
    sla: str | None = typer.Option(None, "--sla", help="SLA preset (standard, enterprise) or an SLA YAML file."),
    allow_conditional: bool = typer.Option(False, "--allow-conditional", help="Exit 0 on a CONDITIONAL verdict too."),
    rate_card: str | None = typer.Option(
        None, "--rate-card", help="Rate card YAML for the cost section (default: the shipped one)."
    ),
    recovery_window: float | None = typer.Option(
        None,
        "--recovery-window",
        parser=duration_parser(minimum=1),
        metavar="DURATION",
        help="Sustained recovery: the short window, e.g. 10 or 10s (default 10 s).",
    ),
    recovery_confirm: float | None = typer.Option(
        None,
        "--recovery-confirm",
        parser=duration_parser(),
        metavar="DURATION",
        help="Sustained recovery: how long it must then hold, e.g. 60 or 1m (default 60 s).",
    ),
) -> None:
    """Score one run: write summary.json and CSV tables beside it, print the verdict.

    Exit 0 PASS, 1 SLA not met, 4 the run is partial, 5 inconclusive (too little data to decide)."""
    console = Console()
    card = load_rate_card(rate_card)  # a bad card is refused (exit 2) before the run is loaded
    recover_shards(run_folder(run_dir))  # remote workers' shards copied in since the run: complete again
    run = load_run(run_dir, columns=ANALYSIS_COLUMNS)
    spec = sla_choice.choose_sla(run, sla, default_criteria, scope_names())
    overrides = {
        name: value
        for name, value in (("short_window_s", recovery_window), ("confirm_window_s", recovery_confirm))
        if value is not None
    }
    summary = build_summary(run, sla=spec, options=AnalysisOptions(recovery_overrides=overrides, rate_card=card))
    write_exports(run.path, summary)
    print_summary(console, summary)
    raise typer.Exit(sla_exit_code(summary, allow_conditional=allow_conditional))


def register(app: typer.Typer) -> None:
    app.command("score", epilog=SCORE_EPILOG)(score_command)


def _choose_sla(run: RunData, option: str | None) -> SlaSpec:
    return sla_choice.choose_sla(run, option, default_criteria)


def _scenario_sla(run: RunData) -> SlaSpec:
    return sla_choice.scenario_sla(run, default_criteria)


# Names that lived here until the scoring policy moved to analysis/: importable for one more release.
_MOVED: dict[str, tuple[str, Callable[..., Any]]] = {
    "choose_sla": ("analysis.sla_choice.choose_sla", _choose_sla),
    "scenario_sla": ("analysis.sla_choice.scenario_sla", _scenario_sla),
    "write_json": ("analysis.exports.write_json", exports.write_json),
    "write_csv": ("analysis.exports.write_csv", exports.write_csv),
    "criteria_rows": ("analysis.exports.criteria_rows", exports.criteria_rows),
    "accounting_rows": ("analysis.exports.accounting_rows", exports.accounting_rows),
    "recovery_rows": ("analysis.exports.recovery_rows", exports.recovery_rows),
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        new, value = _MOVED[name]
        warnings.warn(
            f"harness.commands.score.{name} moved to {new}; the old name goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
