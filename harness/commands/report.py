"""``scrmbench report``, ``scrmbench demo`` and ``scrmbench doctor``: the scorecard, the bake-off, the checkup."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from analysis.scorecard import Scorecard, make_scorecard, render
from analysis.scorecard.browser import find_chromium, print_pdf
from ground.errors import EXIT_HARNESS_ERROR, EXIT_INCONCLUSIVE, EXIT_OK, EXIT_SLA_FAILED, ConfigError
from ground.paths import output_file, run_folder
from harness import bakeoff
from harness.bakeoff_jobs import Job
from harness.commands.score import VERDICT_STYLE  # the same five verdicts and colours as `scrmbench score`
from harness.config.sla import scope_names
from harness.doctor import run_checks
from scenarios.registry import default_criteria

STATUS_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}

REPORT_EPILOG = """Examples:

  scrmbench report results/peak-steady-1 results/peak-lossy-1 -o scorecard.html

  scrmbench report results/* --format csv -o scorecard.csv

  scrmbench report results/failover-* -o failover.html --pdf
"""


def default_output(run_dirs: list[Path], fmt: str) -> Path:
    """One run: beside its records; several: in the folder holding the first."""
    base = run_dirs[0] if len(run_dirs) == 1 else run_dirs[0].resolve().parent
    return base / f"scorecard.{fmt}"


def print_verdicts(console: Console, card: Scorecard) -> None:
    sla = card.sla_name if card.sla_name.startswith("each ") else f"{card.sla_name} SLA"
    table = Table(title=f"{card.title} (scored by {sla})", title_justify="left")
    for column in ("rank", "vendor", "verdict", "score", "why"):
        table.add_column(column, overflow="fold")
    for v in card.vendors:
        score = "–" if v.score is None else f"{v.score:.0f}" + render.decided_words(v.decided_share)
        why = "; ".join(v.reasons[:2]) or "met every criterion it was measured on"
        style = VERDICT_STYLE.get(v.verdict, "bold")
        table.add_row(v.rank_label or str(v.rank), v.name, f"[{style}]{v.verdict}[/]", score, why)
    console.print(table)


def write_scorecard(card: Scorecard, output: Path, fmt: str, pdf: bool, console: Console) -> list[Path]:
    written = [render.write(card, output, fmt)]
    if pdf:
        if fmt != "html":
            raise ConfigError(
                "--pdf prints the HTML scorecard",
                field="--format",
                value=fmt,
                fix="drop --format or use --format html with --pdf",
            )
        if find_chromium() is None:
            console.print("[yellow]no PDF:[/] Chromium is not installed (Debian: apt-get install chromium)")
        else:
            written.append(print_pdf(output, output.with_suffix(".pdf")))
    return written


def report_command(
    run_dirs: list[Path] = typer.Argument(..., help="Results folders (results/<run-id>), one or many vendors."),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Where to write (default: scorecard.<format> in the run folder, or beside the first of several).",
    ),
    fmt: str = typer.Option("html", "--format", "-f", help="html (one self-contained page), md, json or csv."),
    pdf: bool = typer.Option(False, "--pdf", help="Also print the page to PDF with headless Chromium."),
    sla: str | None = typer.Option(None, "--sla", help="Re-score every run against this preset or SLA file."),
    title: str = typer.Option("SCRM vendor trial", "--title", help="The heading managers see."),
) -> None:
    """Build the scorecard of one or more runs: verdicts, headline figures, criteria, evidence, conditions."""
    if fmt not in render.FORMATS:
        raise ConfigError("unknown report format", field="--format", value=fmt, fix="use html, md, json or csv")
    for run_dir in run_dirs:  # a wrong folder or output path is refused before any run is loaded (exit 2)
        run_folder(run_dir)
    if output is not None:
        output_file(output)
    console = Console()
    card = make_scorecard(run_dirs, sla=sla, title=title, scenario_criteria=default_criteria, scope_names=scope_names())
    written = write_scorecard(card, output_file(output or default_output(run_dirs, fmt)), fmt, pdf, console)
    print_verdicts(console, card)
    for path in written:
        console.print(f"scorecard: [bold]{path}[/]", highlight=False)


def running_table(running: list[Job], waiting: int, done: int) -> Table:
    """The live view of the demo: each running job with its elapsed time against its budget."""
    table = Table(title=f"running {len(running)}, waiting {waiting}, done {done}", title_justify="left")
    for column in ("scenario", "candidate", "elapsed", "budget"):
        table.add_column(column)
    now = time.monotonic()
    for job in running:
        table.add_row(job.scenario, job.vendor, f"{now - job.started:.0f} s", f"{job.budget_s:.0f} s")
    return table


def demo_command(
    quick: bool = typer.Option(False, "--quick", help="Shorter runs: under 2 minutes instead of about 5."),
    out: Path = typer.Option(Path("results"), "--out", help="Folder for the demo's runs and scorecard."),
    sla: str | None = typer.Option(
        None, "--sla", help="Score every run against this preset or SLA file instead of each scenario's own criteria."
    ),
) -> None:
    """Run the reference bake-off on loopback and write its scorecard (what `make demo` runs)."""
    console = Console()
    with Live(console=console, transient=True, auto_refresh=False) as live:

        def tick(running: list[Job], waiting: int, done: int) -> None:
            if console.is_terminal:
                live.update(running_table(running, waiting, done), refresh=True)

        result = bakeoff.run_demo(
            out,
            quick=quick,
            sla=sla,
            progress=lambda line: live.console.print(f"· {line}", highlight=False),
            tick=tick,
        )
    if result.skipped:
        console.print(f"[yellow]bake-off skipped:[/] {result.skipped}", highlight=False)
        raise typer.Exit(EXIT_OK)
    if result.card is not None:
        print_verdicts(console, result.card)
    console.print(f"scorecard: [bold]{result.scorecard}[/]", highlight=False)
    if result.reruns:
        console.print(f"run again alone because the machine was busy: {', '.join(result.reruns)}", highlight=False)
    problems = result.call_problems()
    if result.harness_bound and problems:
        console.print(
            "[bold yellow]this machine was too busy for the demo to rank the vendors[/]: what its saturation could "
            "have spoiled is INCONCLUSIVE, not a failure of any vendor. Close what else is running (or give the "
            "machine more cores) and run `scrmbench demo` again."
        )
        for line in result.harness_bound:
            console.print(f"  · {line}", highlight=False)
        raise typer.Exit(EXIT_INCONCLUSIVE)
    if problems:
        console.print(
            "[bold red]the demo did not rank the reference vendors as designed[/] (steady should pass; degrading "
            "should fail on reply latency at peak, lossy on lost acknowledged messages); see the scorecard"
        )
        for problem in problems:
            console.print(f"  · {problem}", highlight=False)
        raise typer.Exit(EXIT_SLA_FAILED)


def doctor_command(
    results: Path = typer.Option(Path("results"), "--results", help="Where results will be written."),
) -> None:
    """Check this machine: Python, packages, Docker, Chromium, free ports, loopback, disk; each with its fix."""
    console = Console()
    table = Table(title="scrmbench doctor", title_justify="left")
    for column in ("check", "status", "found", "fix"):
        table.add_column(column, overflow="fold")
    checks = run_checks(results)
    for c in checks:
        table.add_row(c.name, f"[{STATUS_STYLE[c.status]}]{c.status}[/]", c.found, c.fix)
    console.print(table)
    failed = [c.name for c in checks if c.status == "fail"]
    if failed:
        console.print(f"[bold red]not ready:[/] fix {', '.join(failed)} first")
        raise typer.Exit(EXIT_HARNESS_ERROR)
    console.print("[green]ready[/] (warnings name optional parts)")


def register(app: typer.Typer) -> None:
    app.command("report", epilog=REPORT_EPILOG)(report_command)
    app.command("demo", epilog="Example:\n\n  scrmbench demo --quick")(demo_command)
    app.command("doctor", epilog="Example:\n\n  scrmbench doctor")(doctor_command)
