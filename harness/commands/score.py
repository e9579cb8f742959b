"""``scrmbench score RUN_DIR [--sla PRESET|FILE]`` and ``scrmbench compare RUN_DIR...``.

score: load the run, build ``summary.json`` (docs/summary-schema.md), write it with CSV exports of the headline
tables beside it, print a table; exit 0 when the SLA verdict is PASS, 1 when it is not, 2 on bad input (an SLA
file with a bad field), 3 when the folder cannot be analysed.

The SLA is, in order: ``--sla``; the manifest's ``sla``; the scenario's default criteria; the ``standard`` preset.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import typer
from rich.console import Console
from rich.table import Table

from analysis.compare import RunInput, compare
from analysis.load import ANALYSIS_COLUMNS, RunData, load_run
from analysis.sla import SlaSpec, load_preset, resolve_sla, sla_from_criteria
from analysis.summary import AnalysisOptions, build_summary
from analysis.units import format_value
from harness.errors import EXIT_OK, EXIT_SLA_FAILED, ConfigError

log = logging.getLogger(__name__)
STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "inconclusive": "grey50", "not_applicable": "grey50"}
SIGN = {"<=": "≤", ">=": "≥"}
VERDICT_STYLE = {"PASS": "bold green", "CONDITIONAL": "bold yellow", "FAIL": "bold red"}


def choose_sla(run: RunData, option: str | None) -> SlaSpec:
    if option:
        return resolve_sla(option)
    if run.manifest.sla:
        ref = run.manifest.sla
        beside = run.path / ref
        return resolve_sla(str(beside) if not Path(ref).is_absolute() and beside.exists() else ref)
    try:
        from scenarios import registry

        plan = registry.get(run.manifest.scenario).plan(run.manifest.scenario_params)
        criteria = [c.as_dict() for c in plan.criteria]
        if criteria:
            return sla_from_criteria(
                f"{run.manifest.scenario} defaults", criteria, source=f"scenario:{run.manifest.scenario}"
            )
    except Exception as exc:  # an unknown or newer scenario: the preset still gives a verdict
        log.debug("no scenario defaults for %s: %s", run.manifest.scenario, exc)
    return load_preset("standard")


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    tmp.replace(path)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def operation_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    items = [("(all)", summary["requests"]["overall"]), *summary["requests"]["by_operation"].items()]
    for name, s in items:
        lat = s["latency_ms"]
        rows.append(
            {
                "operation": name,
                "count": s["count"],
                "ok": s["ok"],
                "errors": s["errors"],
                "dropped_slots": s["dropped_slots"],
                "error_rate": s["error_rate"],
                "throughput_rps": s["throughput_rps"],
                **{f"{k}_ms": lat[k] for k in ("p50", "p90", "p95", "p99", "p99_9", "max")},
            }
        )
    return rows


def criteria_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    keys = (
        "id",
        "metric",
        "aggregation",
        "comparison",
        "target",
        "warn",
        "measured",
        "unit",
        "samples",
        "status",
        "points",
        "weight",
        "critical",
        "reason",
        "source",
    )
    return [{k: c[k] for k in keys} for c in (summary["sla"] or {}).get("criteria", [])]


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
    console.print(f"[{VERDICT_STYLE[sla['verdict']]}]{sla['verdict']}[/] score {score}")
    for reason in sla["reasons"]:
        console.print(f"  · {reason}", highlight=False)


def score_command(
    run_dir: Path = typer.Argument(..., help="One run's results folder (results/<run-id>)."),
    sla: str | None = typer.Option(None, "--sla", help="SLA preset (standard, enterprise) or an SLA YAML file."),
    allow_conditional: bool = typer.Option(False, "--allow-conditional", help="Exit 0 on a CONDITIONAL verdict too."),
    recovery_window: float | None = typer.Option(
        None, "--recovery-window", min=1, help="Sustained recovery: the short window in s (default 10)."
    ),
    recovery_confirm: float | None = typer.Option(
        None, "--recovery-confirm", min=0, help="Sustained recovery: how long it must then hold, in s (default 60)."
    ),
) -> None:
    """Score one run: write summary.json and CSV tables beside it, print the verdict; exit 1 if the SLA is not met."""
    console = Console()
    run = load_run(run_dir, columns=ANALYSIS_COLUMNS)
    spec = choose_sla(run, sla)
    overrides = {
        name: value
        for name, value in (("short_window_s", recovery_window), ("confirm_window_s", recovery_confirm))
        if value is not None
    }
    summary = build_summary(run, sla=spec, options=AnalysisOptions(recovery_overrides=overrides))
    write_json(run.path / "summary.json", summary)
    write_csv(run.path / "summary-requests.csv", operation_rows(summary))
    write_csv(run.path / "summary-criteria.csv", criteria_rows(summary))
    print_summary(console, summary)
    verdict = summary["sla"]["verdict"]
    met = verdict == "PASS" or (allow_conditional and verdict == "CONDITIONAL")
    raise typer.Exit(EXIT_OK if met else EXIT_SLA_FAILED)


def _latency_sample(run: RunData, size: int = 5000) -> np.ndarray:
    values = run.requests["latency_ms"].to_numpy(dtype="float64", na_value=np.nan)
    values = values[~np.isnan(values)]
    if values.size > size:
        values = np.random.default_rng(0).choice(values, size, replace=False)
    return values


def compare_command(
    run_dirs: list[Path] = typer.Argument(
        ..., help="Results folders of several runs (several vendors, same scenario)."
    ),
    sla: str | None = typer.Option(None, "--sla", help="SLA preset or file used to score every run."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Where to write comparison.json."),
) -> None:
    """Compare vendors run by run: intervals on p95/p99 and rate differences, a ranking with ties."""
    if len(run_dirs) < 2:
        raise ConfigError(
            "compare needs at least two runs",
            field="RUN_DIR",
            value=len(run_dirs),
            fix="give two or more results folders",
        )
    inputs = []
    for run_dir in run_dirs:
        run = load_run(run_dir, columns=ANALYSIS_COLUMNS)
        inputs.append(RunInput(build_summary(run, sla=choose_sla(run, sla)), _latency_sample(run)))
    result = compare(inputs)
    target = output or Path(run_dirs[0]).resolve().parent / "comparison.json"
    write_json(target, result)
    write_csv(
        target.with_suffix(".csv"),
        [
            {
                "scenario": g["scenario"],
                **{
                    k: p.get(k)
                    for k in ("a", "b", "metric", "difference", "ci95", "margin", "p_value", "p_holm", "verdict")
                },
            }
            for g in result["groups"]
            for p in g["pairs"]
        ],
    )
    console = Console()
    for group in result["groups"]:
        table = Table(title=f"Ranking · {group['scenario']}")
        for column in ("rank", "vendor", "runs", "by", "value", "tied with"):
            table.add_column(column)
        runs = {b["vendor"]: b["n_runs"] for b in group["vendors"]}
        for row in group["ranking"]:
            value = "–" if row["value"] is None else f"{row['value']:.1f}"
            table.add_row(
                str(row["rank"]),
                row["vendor"],
                str(runs[row["vendor"]]),
                row["by"],
                value,
                ", ".join(row["tied_with"]) or "–",
            )
        console.print(table)
        for pair in group["pairs"]:
            console.print(f"  · {pair['sentence']}", highlight=False)
        for note in group["notes"]:
            console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(f"wrote {target}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("score")(score_command)
    app.command("compare")(compare_command)
