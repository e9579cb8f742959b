"""``scrmbench compare RUN_DIR...``: vendors compared run by run (``analysis.compare``), ``comparison.json`` and
a CSV of the pairs beside it, a ranking with ties printed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from analysis.compare import RunInput, compare
from analysis.exports import write_csv, write_json
from analysis.load import ANALYSIS_COLUMNS, RunData, load_run
from analysis.sla_choice import choose_sla
from analysis.summary import build_summary
from ground.errors import ConfigError
from scenarios.registry import default_criteria

COMPARE_EPILOG = """Examples:

  scrmbench compare results/RUN_A results/RUN_B

  scrmbench compare results/*-peak-* --sla enterprise -o peak-comparison.json
"""


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
        inputs.append(RunInput(build_summary(run, sla=choose_sla(run, sla, default_criteria)), _latency_sample(run)))
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
                    for k in (
                        "a",
                        "b",
                        "metric",
                        "primary",
                        "difference",
                        "ci95",
                        "margin",
                        "p_value",
                        "p_holm",
                        "verdict",
                        "basis",
                    )
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
    app.command("compare", epilog=COMPARE_EPILOG)(compare_command)
