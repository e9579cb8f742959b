"""``scrmbench score RUN_DIR [--sla PRESET|FILE]`` (``scrmbench compare`` is in ``harness.commands.compare``).

score: load the run, build ``summary.json`` (docs/summary-schema.md), write it with CSV exports of the headline
tables beside it (requests, criteria, accounting, recovery), print a table. Exit codes (``sla_exit_code``): 0
when the verdict is PASS on a complete run, 1 when the SLA was not met, 4 when the run is partial, 5 when the
SLA could not be decided on this much data (INCONCLUSIVE), 2 on bad input (an SLA file with a bad field), 3 when
the folder cannot be analysed.

The SLA is, in order: ``--sla``; the manifest's ``sla``; the scenario's default criteria; the ``standard``
preset, with a note in the output saying why the scenario's own criteria could not be used.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from analysis.load import ANALYSIS_COLUMNS, RunData, load_run
from analysis.sla import SlaSpec, load_preset, resolve_sla, sla_from_criteria
from analysis.summary import AnalysisOptions, build_summary
from analysis.units import format_value
from harness.config.durations import duration_parser
from harness.errors import EXIT_INCONCLUSIVE, EXIT_OK, EXIT_PARTIAL, EXIT_SLA_FAILED, ConfigError

log = logging.getLogger(__name__)
STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "inconclusive": "grey50", "not_applicable": "grey50"}
SIGN = {"<=": "≤", ">=": "≥"}
SCORE_EPILOG = """Examples:

  scrmbench score results/RUN_ID

  scrmbench score results/RUN_ID --sla enterprise --allow-conditional

  scrmbench score results/RUN_ID --recovery-window 5 --recovery-confirm 30
"""
VERDICT_STYLE = {
    "PASS": "bold green",
    "CONDITIONAL": "bold yellow",
    "FAIL": "bold red",
    "INCONCLUSIVE": "bold grey50",
    "INCOMPLETE": "bold grey50",
}


def _param_key(field: str | None, params: dict[str, Any]) -> str | None:
    """The recorded parameter a scenario's refusal names ('--duration' → 'duration_s'), if it was recorded."""
    if not field:
        return None
    base = field.lstrip("-").replace("-", "_").removeprefix("scenario_params.")
    return next((key for key in (base, f"{base}_s") if key in params), None)


def scenario_sla(run: RunData) -> SlaSpec:
    """The scenario's own default criteria for this run's recorded parameters. A parameter the scenario now
    refuses (a run recorded by an older version) is dropped and named in the SLA's notes; when no criteria can
    be built, the ``standard`` preset, with a note saying why, never silently."""
    scenario = run.manifest.scenario
    params = dict(run.manifest.scenario_params)
    notes: list[str] = []
    try:
        from scenarios import registry

        definition = registry.get(scenario)
        for _ in range(len(params) + 1):
            try:
                plan = definition.plan(params, recorded=True)
                break
            except ConfigError as exc:
                key = _param_key(exc.field, params)
                if key is None:
                    raise
                notes.append(
                    f"the {scenario} scenario refuses its recorded parameter {key}={params.pop(key)!r} "
                    f"({exc}); its criteria were built without it"
                )
        criteria = [c.as_dict() for c in plan.criteria]
        if criteria:
            spec = sla_from_criteria(f"{scenario} defaults", criteria, source=f"scenario:{scenario}")
            return spec.model_copy(update={"notes": notes})
        notes.append(f"the {scenario} scenario has no default criteria: scored with the standard preset")
    except Exception as exc:  # an unknown or newer scenario, or parameters it refuses: the preset, said out loud
        log.debug("no scenario defaults for %s", scenario, exc_info=True)
        notes.append(
            f"the {scenario} scenario's own criteria could not be built for this run ({exc}): "
            "scored with the standard preset instead; pass --sla to choose"
        )
    return load_preset("standard").model_copy(update={"notes": notes})


def choose_sla(run: RunData, option: str | None) -> SlaSpec:
    if option:
        return resolve_sla(option)
    if run.manifest.sla:
        ref = run.manifest.sla
        beside = run.path / ref
        return resolve_sla(str(beside) if not Path(ref).is_absolute() and beside.exists() else ref)
    return scenario_sla(run)


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


ACCOUNTING_KEYS = (
    "measured",
    "attempted",
    "acked",
    "failed",
    "indeterminate",
    "delivered",
    "acked_delivered",
    "delivered_once",
    "lost",
    "duplicated",
    "duplicate_copies",
    "unexpected",
    "recovered",
    "unresolved",
    "delivered_after_fail",
    "loss_rate",
    "loss_upper_95",
    "duplicate_rate",
)


def accounting_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row: the end-to-end accounting counts, with the delivery latency percentiles."""
    acc = summary["accounting"]
    row = {k: acc.get(k) for k in ACCOUNTING_KEYS}
    low, high = acc.get("loss_rate_ci95") or (None, None)
    row.update(loss_rate_ci95_low=low, loss_rate_ci95_high=high)
    latency = acc.get("delivery_latency_ms") or {}
    row.update({f"delivery_{k}_ms": latency.get(k) for k in ("p50", "p95", "p99", "max")})
    return [row]


RECOVERY_KEYS = (
    "fault_id",
    "fault",
    "target",
    "injected_ok",
    "injected_s",
    "cleared_s",
    "duration_s",
    "ttd_s",
    "ttr_first_s",
    "ttr_sustained_s",
    "recovered",
    "ttr_lower_bound_s",
    "ttr_first_from_clear_s",
    "ttr_sustained_from_clear_s",
    "flaps",
    "outage_s",
    "errors_during_fault",
    "lost_messages",
)


def recovery_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per injected fault: detection, first success, sustained recovery, flaps, loss and its span."""
    rows = []
    for fault in summary["recovery"]["faults"]:
        row = {k: fault.get(k) for k in RECOVERY_KEYS}
        point = fault.get("recovery_point") or {}
        row["recovery_point_span_s"] = point.get("span_s")
        rows.append(row)
    return rows


def write_exports(run_dir: Path, summary: dict[str, Any]) -> None:
    """summary.json and the CSV tables beside it (a table with no rows, e.g. no fault, writes no file)."""
    write_json(run_dir / "summary.json", summary)
    write_csv(run_dir / "summary-requests.csv", operation_rows(summary))
    write_csv(run_dir / "summary-criteria.csv", criteria_rows(summary))
    write_csv(run_dir / "summary-accounting.csv", accounting_rows(summary))
    write_csv(run_dir / "summary-recovery.csv", recovery_rows(summary))


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
    from harness.run_shards import recover_shards

    console = Console()
    recover_shards(run_dir)  # remote workers' shards copied in since the run: complete again
    run = load_run(run_dir, columns=ANALYSIS_COLUMNS)
    spec = choose_sla(run, sla)
    overrides = {
        name: value
        for name, value in (("short_window_s", recovery_window), ("confirm_window_s", recovery_confirm))
        if value is not None
    }
    summary = build_summary(run, sla=spec, options=AnalysisOptions(recovery_overrides=overrides))
    write_exports(run.path, summary)
    print_summary(console, summary)
    raise typer.Exit(sla_exit_code(summary, allow_conditional=allow_conditional))


def register(app: typer.Typer) -> None:
    from harness.commands.compare import COMPARE_EPILOG, compare_command

    app.command("score", epilog=SCORE_EPILOG)(score_command)
    app.command("compare", epilog=COMPARE_EPILOG)(compare_command)
