"""``scrmbench calibrate``: measure how much load this machine's harness offers unsaturated, and cache it.

Exit codes: 0 calibrated (the figures are printed and cached), 3 a probe run failed (harness error).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from harness.run.calibrate import Calibration, cache_path, calibrate, load_cached

EPILOG = """Measuring takes about 90 s on 2 cores and caches the result; --show only prints the cache.

Examples:

  scrmbench calibrate

  scrmbench calibrate --show
"""


def table(calibration: Calibration) -> Table:
    out = Table(title=f"calibration of {calibration.host} ({calibration.cores} cores, scrmbench {calibration.version})")
    for column in ("probe", "clean up to", "ended by", "stack at rest", "per 100 msg/s", "webhooks/s"):
        out.add_column(column)
    for name, probe in calibration.probes.items():
        hooks = f"{probe.webhooks_per_s:g}" if probe.webhooks_per_s is not None else "-"
        out.add_row(
            name,
            f"{probe.capacity_per_s:g}/s",
            probe.limited_by,
            f"{probe.stack_base_cores:.2f} cores",
            f"{100 * probe.cores_per_rps:.2f} cores",
            hooks,
        )
    return out


def calibrate_command(
    show: bool = typer.Option(False, "--show", help="Print the cached calibration; measure nothing."),
    keep: Path | None = typer.Option(None, "--keep", help="Keep the probe runs' results folders here."),
) -> None:
    """Measure this machine's harness ceiling (open-model staircases against the mock and a reference vendor)."""
    console = Console()
    if show:
        cached = load_cached()
        if cached is None:
            console.print(f"not calibrated yet (no {cache_path()}): run `scrmbench calibrate`")
            raise typer.Exit(1)
        console.print(table(cached))
        return
    calibration, path = calibrate(progress=lambda message: console.print(message), keep=keep)
    console.print(table(calibration))
    console.print(f"cached in {path}")


def register(app: typer.Typer) -> None:
    app.command("calibrate", epilog=EPILOG)(calibrate_command)
