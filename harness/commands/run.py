"""``scrmbench run`` and ``scrmbench scenarios list``.

Exit codes: 0 the SLA was met (or no scorer is installed and the run completed), 1 the SLA failed, 2 bad input
(a refused target included: refused before the results folder is made, nothing sent), 3 harness error (a full
disk included: the run is stopped, the folder keeps what was written, marked incomplete; see ``ground.errors``).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ground.durations import duration_parser
from ground.errors import EXIT_HARNESS_ERROR, EXIT_INCONCLUSIVE, EXIT_OK, EXIT_SLA_FAILED, ScenarioError
from ground.net import is_loopback
from plan.params import parse_param_items

RUN_EPILOG = """Examples:

  scrmbench run --vendor vendors/reference-steady.yaml --scenario peak --quick

  scrmbench run --vendor vendors/reference-steady.yaml --scenario peak --duration 5m --param drain_s=30s

  scrmbench run --vendor vendors/twilio-facade.yaml --scenario broadcast --quick

  scrmbench run --vendor vendors/reference-ha-pair.yaml --scenario failover --quick

  scrmbench run --vendor vendors/reference-lossy.yaml --scenario peak --rate 10 --sla enterprise

  scrmbench run --vendor vendors/reference-lossy.yaml --scenario peak --param spike_factor=3 --seed 7

  scrmbench run --vendor vendors/reference-steady.yaml --scenario peak --faults docs/examples/faults.yaml
"""


def run(
    vendor: Path = typer.Option(..., "--vendor", help="Vendor profile YAML (vendors/*.yaml)."),
    scenario: str = typer.Option(..., "--scenario", help="Scenario name (see `scrmbench scenarios list`)."),
    duration: float | None = typer.Option(
        None,
        "--duration",
        parser=duration_parser(),
        metavar="DURATION",
        help="Length of the load: 90 (seconds), 30s, 5m, 1h30m (scenario default otherwise).",
    ),
    users: int | None = typer.Option(None, "--users", help="Closed model: concurrent users."),
    rate: float | None = typer.Option(None, "--rate", help="Open model: arrivals per second."),
    workers: int = typer.Option(0, "--workers", min=0, max=64, help="Locust worker processes (0: one local runner)."),
    master_host: str = typer.Option("127.0.0.1", "--master-host", help="Address the master binds for workers."),
    remote_workers: int = typer.Option(0, "--remote-workers", min=0, max=1000, help="Workers on other machines."),
    master_port: int = typer.Option(5557, "--master-port", min=1024, max=65535, help="Master port (remote workers)."),
    sla: str | None = typer.Option(None, "--sla", help="SLA preset name or SLA YAML file."),
    rate_card: str | None = typer.Option(
        None, "--rate-card", help="Rate card YAML for the cost section (default: the shipped one)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for customers, arrivals, media and random fault windows."),
    faults: Path | None = typer.Option(
        None, "--faults", help="Fault schedule YAML (at / every / window), played with the scenario's own faults."
    ),
    out: Path = typer.Option(Path("results"), "--out", help="Results root folder."),
    quick: bool = typer.Option(False, "--quick", help="The scenario's quick size (well under two minutes)."),
    param: list[str] = typer.Option([], "--param", help="Scenario parameter KEY=VALUE (repeatable)."),
    i_own_this_target: bool = typer.Option(False, "--i-own-this-target", help="Confirm a non-loopback target."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No live display (CI logs)."),
    over_capacity: bool = typer.Option(
        False, "--over-capacity", help="Run a plan above this machine's calibrated ceiling anyway (marked)."
    ),
    parallel_trials: int = typer.Option(
        1, "--parallel-trials", min=1, max=64, help="Trials of the same bake-off running at once (capacity check)."
    ),
    mock_shards: int = typer.Option(
        1, "--mock-shards", help="Mock processes, sharded by phone number id (1 to 16; see docs/scaling.md)."
    ),
) -> None:
    """Run one scenario against one vendor and score it."""
    from harness.run.runner import RunRequest, execute

    if users is not None and rate is not None:
        raise ScenarioError(
            "give --users (closed model) or --rate (open model), not both",
            field="--users",
            value=users,
            fix="drop one of them",
        )
    if not is_loopback(master_host or "0.0.0.0"):
        # The master's port is the harness's own, not a target; still say that it is reachable from outside.
        Console(stderr=True).print(
            f"[yellow]warning:[/] the Locust master binds {master_host}: reachable by other hosts"
        )
    if remote_workers and is_loopback(master_host):
        raise ScenarioError(
            "remote workers cannot reach a master bound to loopback",
            field="--master-host",
            value=master_host,
            fix="pass --master-host with an address the load machines can reach",
        )
    overrides: dict[str, object] = parse_param_items(param)
    if duration is not None:
        overrides["duration_s"] = duration
    if rate is not None:
        overrides["rate"] = rate
    if users is not None:
        overrides.update({"users": users, "load_model": "closed"})
    request = RunRequest(
        vendor=vendor,
        scenario=scenario,
        overrides=overrides,
        quick=quick,
        workers=workers,
        master_host=master_host,
        remote_workers=remote_workers,
        master_port=master_port if remote_workers else 0,
        seed=seed,
        results_root=out,
        sla=sla,
        rate_card=rate_card,
        owner_confirmed=i_own_this_target,
        show_progress=not no_progress,
        faults=faults,
        over_capacity=over_capacity,
        parallel_trials=parallel_trials,
        mock_shards=mock_shards,
    )
    result = execute(request)
    console = Console(stderr=True)
    state = "complete" if result.manifest.complete else "partial"
    console.print(f"results: {result.run_dir} ({state})")
    if not result.manifest.complete:
        raise typer.Exit(EXIT_HARNESS_ERROR)  # a partial run never passes, whatever its verdict
    if result.sla_met is False:
        verdict = ((result.summary or {}).get("sla") or {}).get("verdict")
        if verdict == "INCONCLUSIVE":
            from analysis.harness_health import harness_bound

            bound = harness_bound(result.summary or {})
            why = bound or "too little data to decide; run longer or repeat the run"
            console.print(f"[bold]SLA inconclusive:[/] {why}", highlight=False)
            raise typer.Exit(EXIT_INCONCLUSIVE)
        console.print("[bold red]SLA not met[/]")
        raise typer.Exit(EXIT_SLA_FAILED)
    raise typer.Exit(EXIT_OK)


def scenarios_list() -> None:
    """One line per scenario: name, load model and what it measures."""
    from scenarios.registry import SCENARIOS

    table = Table(show_header=True, header_style="bold")
    table.add_column("scenario")
    table.add_column("quick")
    table.add_column("what it measures")
    for name, scenario in SCENARIOS.items():
        quick = scenario.plan(quick=True)
        table.add_row(name, f"{quick.duration_s:.0f} s", scenario.summary)
    Console(width=160).print(table)


def register(app: typer.Typer) -> None:
    app.command("run", epilog=RUN_EPILOG)(run)
    scenarios_app = typer.Typer(help="The scenarios from the buyers' checklist.", no_args_is_help=True)
    scenarios_app.command("list", epilog="Example:\n\n  scrmbench scenarios list")(scenarios_list)
    app.add_typer(scenarios_app, name="scenarios")
