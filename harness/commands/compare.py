"""``scrmbench compare RUN_DIR...``: vendors compared run by run (``analysis.compare``), ``comparison.json`` and
a CSV of the pairs beside it, a ranking with ties printed, and the cost difference of each pair (``--rate-card``;
"not comparable" when either side is not wholly priced)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from analysis.compare import RunInput, compare
from analysis.exports import write_csv, write_json
from analysis.load import ANALYSIS_COLUMNS, RunData, load_run
from analysis.rates import load_rate_card
from analysis.sla_choice import choose_sla
from analysis.summary import AnalysisOptions, build_summary
from ground.errors import ConfigError
from ground.paths import output_file, run_folder
from harness.config.sla import scope_names
from scenarios.registry import default_criteria

COMPARE_EPILOG = """Examples:

  scrmbench compare results/RUN_A results/RUN_B

  scrmbench compare results/*-peak-* --sla enterprise -o peak-comparison.json

  scrmbench compare results/RUN_A results/RUN_B --rate-card my-rates.yaml
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
    rate_card: str | None = typer.Option(
        None, "--rate-card", help="Rate card YAML pricing every run's cost (default: the shipped one)."
    ),
) -> None:
    """Compare vendors run by run: intervals on p95/p99 and rate differences, a ranking with ties."""
    if len(run_dirs) < 2:
        raise ConfigError(
            "compare needs at least two runs",
            field="RUN_DIR",
            value=len(run_dirs),
            fix="give two or more results folders",
        )
    card = load_rate_card(rate_card)  # a bad card is refused (exit 2) before any run is loaded
    for run_dir in run_dirs:  # so is a wrong folder or output path, before the first run is scored
        run_folder(run_dir)
    target = output_file(output or Path(run_dirs[0]).resolve().parent / "comparison.json")
    options = AnalysisOptions(rate_card=card)
    names = scope_names()
    inputs = []
    for run_dir in run_dirs:
        run = load_run(run_dir, columns=ANALYSIS_COLUMNS)
        summary = build_summary(run, sla=choose_sla(run, sla, default_criteria, names), options=options)
        inputs.append(RunInput(summary, _latency_sample(run)))
    result = compare(inputs)
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
        for pair in group["cost"]:
            console.print(f"  · {pair['sentence']}", highlight=False)
        for note in group["notes"]:
            console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(f"wrote {target}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("compare", epilog=COMPARE_EPILOG)(compare_command)
