"""``scrmbench run``: one trial from vendor profile and scenario to a scored results folder.

    resolve scenario + profile + ``--faults`` file (bad input → exit 2) → results folder + manifest → start
    mock and vendor (the chaos proxy in front when the schedule has proxy faults) → check targets → setup steps
    → fault schedule in the background → Locust per phase (local or master + N workers) with a live display →
    check every remote worker's shards arrived → drain → export the mock's ledger and webhook attempts →
    complete the manifest (which workers went missing, whose records are missing, which services crashed) →
    score with analysis → exit 0 / 1 / 3

A crash of the mock or the vendor mid-run is recorded as a ``note`` on the fault timeline, never a harness
crash. A full disk while writing results (the runner's own files, or a Locust process's recorder, which then
exits with ``LOCUST_EXIT_DISK_FULL``) stops the run: the load stops, the services are stopped, the manifest is
left marked incomplete, and a ``HarnessError`` (exit 3) names the folder and the fix. A target that is not
allowed is refused before the results folder exists.
"""

from __future__ import annotations

import contextlib
import logging
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live

from ground.correlation import new_run_tag
from ground.errors import ScenarioError
from ground.net import check_target
from ground.records import RunManifest
from harness import __version__
from harness.adapters.registry import callback_secret, contact_centre_unmeasured, load_profile, takes_callback_url
from harness.callbacks.run import start_callbacks, stop_callbacks, subscribe_at_mock, with_callback_url
from harness.config.profiles import VendorProfile
from harness.faults.timeline import FaultTimeline
from harness.health import HealthSampler
from harness.loadgen.spec import RunSpec, write_run_spec
from harness.recorder import LOCUST_EXIT_DISK_FULL
from harness.results import complete_manifest, disk_full_error, disk_guard, run_directory, write_manifest
from harness.run.capacity import check_capacity, load_cached
from harness.run.faults import RunSchedule, check_schedule_targets, load_run_schedule, start_faults
from harness.run.health import start_health, stop_health, unwatch_locust, watch_locust
from harness.run.locust_phase import LocustPhase
from harness.run.progress import read_live, render
from harness.run.resources import ResourceSampler
from harness.run.shards import missing_shard_notes, missing_shards, missing_worker_notes, missing_workers
from harness.run.steps import export_mock_records, run_setup_step
from harness.stack.launchers import launcher_for
from harness.stack.services import (
    RunServices,
    check_shards_for,
    planned_targets,
    start_services,
)
from mocks.whatsapp.config import ADMIN_TOKEN_ENV
from plan.load import AgentsPlan, LoadPlan
from scenarios.registry import default_criteria
from scenarios.registry import get as get_scenario

log = logging.getLogger(__name__)


@dataclass
class RunRequest:
    vendor: Path
    scenario: str
    overrides: dict[str, Any] = field(default_factory=dict)
    quick: bool = False
    workers: int = 0
    master_host: str = "127.0.0.1"
    remote_workers: int = 0
    master_port: int = 0
    seed: int = 0
    results_root: Path = Path("results")
    run_id: str = ""
    sla: str | None = None
    rate_card: str | None = None  # --rate-card: a YAML rate card for the cost section (None: the shipped one)
    owner_confirmed: bool = False
    show_progress: bool = True
    mock_settings: dict[str, Any] = field(default_factory=dict)  # merged into the run's mock config
    faults: Path | None = None  # --faults: a YAML fault schedule played with the scenario's own
    over_capacity: bool = False  # --over-capacity: run a plan above the calibrated ceiling anyway (marked)
    parallel_trials: int = 1  # trials of one bake-off at once: the capacity check counts them all
    mock_shards: int = 1  # --mock-shards: the mock's processes, sharded by phone number id (harness.stack.mock)


@dataclass
class RunResult:
    run_dir: Path
    manifest: RunManifest
    summary: dict[str, Any] | None
    sla_met: bool | None


def _recorder_disk_full(locust: LocustPhase) -> bool:
    """True once any Locust process of the phase exited because its recorder found the disk full."""
    return any(process.poll() == LOCUST_EXIT_DISK_FULL for process in locust.processes.values())


def prepare(
    request: RunRequest, schedule: RunSchedule | None = None
) -> tuple[LoadPlan, VendorProfile, Path, RunManifest]:
    scenario = get_scenario(request.scenario)
    plan = scenario.plan(request.overrides, quick=request.quick)
    profile = load_profile(request.vendor)
    launcher = launcher_for(profile)
    offered = set(profile.capabilities.operations) | {"customer_message"}
    missing = sorted({op for op in (*scenario.needs, *plan.operations) if op not in offered})
    if missing:
        raise ScenarioError(
            f"the vendor profile does not offer {', '.join(missing)}, which this scenario needs",
            source=str(request.vendor),
            field="capabilities.operations",
            value=profile.capabilities.operations,
            fix="pick another scenario or add the operation if the vendor supports it",
        )
    if "customer_message" in plan.operations and not (
        profile.capabilities.can_point_at_mock or launcher.loopback_reference
    ):
        raise ScenarioError(
            "this scenario has customers write in through the mock, and the vendor cannot be pointed at it",
            source=str(request.vendor),
            field="capabilities.can_point_at_mock",
            value=False,
            fix="use a vendor that can be configured with the mock's URL, or another scenario",
        )
    if not launcher.loopback_reference:  # a reference vendor or HA pair runs on loopback, started by the run
        # Refused before the results folder exists: a refused run leaves nothing behind and sends nothing.
        check_target(profile.base_url, profile.allowed_targets, owner_confirmed=request.owner_confirmed)
    if not launcher.starts_anything and profile.capabilities.mock_url:
        # The runner's own calls (health, setup steps, faults, the ledger export) carry the mock's admin token.
        check_target(
            profile.capabilities.mock_url,
            profile.allowed_targets,
            owner_confirmed=request.owner_confirmed,
            field="capabilities.mock_url",
            source=str(request.vendor),
        )
    profile.fixed_recipients(source=str(request.vendor))  # a hosted vendor: the buyer's own phones, or exit 2
    check_shards_for(profile, request.mock_shards, source=str(request.vendor))
    if schedule is not None:  # a target this run will not have is refused before anything starts
        check_schedule_targets(schedule, planned_targets(profile, proxy=schedule.needs_proxy))
        schedule.occurrences(plan.duration_s)  # so is an entry happening more than 1000 times in this run
    if request.sla:  # a broken SLA file is refused now (exit 2), not after the whole load has run
        from analysis.sla import check_scope_names, resolve_sla
        from harness.config.sla import scope_names

        check_scope_names(resolve_sla(request.sla), scope_names())
    if request.rate_card:  # likewise a broken rate card
        from analysis.rates import load_rate_card

        load_rate_card(request.rate_card)
    capacity = _check_capacity(request, plan)
    run_tag = new_run_tag()
    run_id = request.run_id or f"{time.strftime('%Y%m%dT%H%M%S')}-{scenario.name}-{profile.name}-{run_tag}"
    run_dir = run_directory(request.results_root, run_id)
    manifest = RunManifest(
        run_id=run_id,
        run_tag=run_tag,
        scenario=scenario.name,
        # The full validated parameters (quick size and overrides applied), so scoring rebuilds the same plan.
        scenario_params=scenario.params(request.overrides, quick=request.quick).model_dump(mode="json"),
        vendor=profile.public_dict(),
        sla=request.sla,
        seed=request.seed,
        load_model=plan.load_model,
        versions={"scrmbench": __version__, "python": platform.python_version()},
        host={
            "name": platform.node(),
            "platform": platform.platform(),
            "workers": request.workers,
            "mock_shards": request.mock_shards,
        },
        started_at=time.time(),
        notes=[],
    )
    if plan.agents is not None:  # a dialect without agents or segments: those figures are "not measured", never 0
        segment = bool(plan.agents.segment_tag and plan.agents.segment_size)
        manifest.unmeasured.update(contact_centre_unmeasured(profile, segment=segment))
    manifest.capacity_check = capacity  # type: ignore[attr-defined]
    if capacity["verdict"] in ("warn", "refuse"):
        manifest.notes.append(capacity["message"] + (" (run with --over-capacity)" if request.over_capacity else ""))
    manifest.quick = request.quick  # type: ignore[attr-defined]
    manifest.criteria = [c.as_dict() for c in plan.criteria]  # type: ignore[attr-defined]
    manifest.phases = []  # type: ignore[attr-defined]
    try:
        write_manifest(run_dir, manifest)
    except OSError as exc:
        raise disk_guard(run_dir, exc) from exc
    return plan, profile, run_dir, manifest


def _check_capacity(request: RunRequest, plan: LoadPlan) -> dict[str, Any]:
    """The plan's peak against this machine's calibration, before anything starts: a warning above 70%, a refusal
    (exit 2) above 100% unless ``--over-capacity`` (harness.run.capacity)."""
    check = check_capacity(
        plan, load_cached(), parallel_trials=request.parallel_trials, remote_workers=request.remote_workers
    )
    if check.verdict == "refuse" and not request.over_capacity:
        raise ScenarioError(
            "the plan is above what this machine's harness can offer without measuring itself",
            source=str(request.vendor),
            field="scenario peak",
            value=f"{100 * check.share:.0f}% of the calibrated capacity",
            fix=check.message,
        )
    if check.verdict == "warn":
        log.warning("%s", check.message)
    return {
        "verdict": check.verdict,
        "share": round(check.share, 4),
        "message": check.message,
        "over_capacity": request.over_capacity and check.verdict == "refuse",
        "parallel_trials": request.parallel_trials,
    }


def _run_spec(request: RunRequest, services: RunServices, manifest: RunManifest, run_dir: Path, phase: int) -> RunSpec:
    """What every Locust process of this phase runs: written to ``run-spec.json``, read with ``--run-spec``."""
    return RunSpec(
        profile=services.profile,
        scenario=request.scenario,
        params=manifest.scenario_params,
        run_id=manifest.run_id,
        run_tag=manifest.run_tag,
        results_dir=str(run_dir.resolve()),
        seed=request.seed,
        quick=request.quick,
        phase=phase,
        mock_url=services.mock_url.rstrip("/") if services.mock_url else "",
        owner_confirmed=request.owner_confirmed,
        profile_file=str(services.profile_path.resolve()),
        routes=services.load_routes,
        customer_numbers=services.customer_numbers,
    )


def _locust_args(spec_path: Path) -> list[str]:
    # The master forwards the spec to its workers (remote ones included) inside Locust's spawn message.
    return ["--run-spec", str(spec_path.resolve())]


def _run_phase(
    locust: LocustPhase,
    *,
    plan: LoadPlan,
    phase_name: str,
    planned_s: float,
    services: RunServices,
    timeline: FaultTimeline,
    run_dir: Path,
    show: bool,
) -> int:
    console = Console(stderr=True)
    started = time.monotonic()
    reported: set[str] = set()
    deadline = started + planned_s + 120  # a phase that overruns its plan by 2 minutes is stopped
    with Live(console=console, refresh_per_second=2, transient=not show) as live:
        while locust.running():
            if _recorder_disk_full(locust):  # one worker out of space: the others write to the same disk
                locust.stop()
                break
            if time.monotonic() > deadline:
                timeline.record(
                    "note", "locust-overrun", detail=f"phase {phase_name} stopped after {planned_s:g} s + 120 s"
                )
                locust.stop()
                break
            for name in services.crashed():
                if name not in reported and not _injected(timeline, name):
                    reported.add(name)
                    timeline.record(
                        "note",
                        "service-crash",
                        target=name,
                        ok=False,
                        detail=f"{name} exited during the run (not injected by the schedule)",
                    )
            if show:
                live.update(
                    render(
                        read_live(run_dir),
                        scenario=plan.scenario,
                        phase=phase_name,
                        elapsed_s=time.monotonic() - started,
                        planned_s=planned_s,
                        faults=timeline.events,
                    )
                )
            time.sleep(0.5)  # polling child processes for the display, not pacing any load
    return locust.wait(timeout_s=60)


def _injected(timeline: FaultTimeline, name: str) -> bool:
    """True while a scheduled fault holds ``name`` down (its exit is the fault, not a crash)."""
    state = False
    for event in timeline.events:
        if event.target.endswith(f":{name}") or event.target == name:
            if event.action == "inject":
                state = True
            elif event.action == "clear":
                state = False
    return state


def lost_agents(agents: AgentsPlan | None, worker: str, workers: int, run_tag: str) -> str:
    """The tail of a missing worker's note in a contact-centre run: the agents that stopped with it (``""`` else)."""
    index = worker.removeprefix("worker-")
    if agents is None or workers < 1 or not index.isdigit():
        return ""
    names = [agents.agent_name(run_tag, i) for i in agents.indexes_on(int(index), workers)]
    if not names:
        return ""
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"; its agents stopped with it ({shown}): what the vendor assigned them from then on went unanswered"


def _phase(
    request: RunRequest,
    plan: LoadPlan,
    index: int,
    services: RunServices,
    manifest: RunManifest,
    run_dir: Path,
    timeline: FaultTimeline,
    health: HealthSampler | None = None,
) -> tuple[int, bool]:
    """Run phase ``index`` of ``plan`` with Locust; its exit code, and whether a recorder found the disk full."""
    phase = plan.phases[index]
    locust = LocustPhase(
        _locust_args(write_run_spec(run_dir, _run_spec(request, services, manifest, run_dir, index))),
        run_dir,
        index,
        workers=request.workers,
        master_host=request.master_host,
        remote_workers=request.remote_workers,
        master_port=request.master_port,
        env={ADMIN_TOKEN_ENV: services.admin_token},  # the load's customer messages: the run's one token
    )
    locust.start()
    watch_locust(health, locust.processes)
    try:
        code = _run_phase(
            locust,
            plan=plan,
            phase_name=phase.name,
            planned_s=phase.profile.duration_s,
            services=services,
            timeline=timeline,
            run_dir=run_dir,
            show=request.show_progress,
        )
    finally:
        locust.stop()
        unwatch_locust(health, locust.processes)
    return code, _recorder_disk_full(locust)


def _prepare_with_schedule(
    request: RunRequest,
) -> tuple[LoadPlan, VendorProfile, Path, RunManifest, RunSchedule | None]:
    """``prepare``, with the ``--faults`` file validated first and recorded (content and plan) in the manifest."""
    # Validated before the results folder exists: a bad schedule file leaves nothing behind (exit 2).
    schedule = None if request.faults is None else load_run_schedule(request.faults, seed=request.seed)
    plan, profile, run_dir, manifest = prepare(request, schedule)
    if schedule is not None:
        manifest.fault_schedule = schedule.manifest_entry(plan.duration_s)  # type: ignore[attr-defined]
        try:
            write_manifest(run_dir, manifest)
        except OSError as exc:
            raise disk_guard(run_dir, exc) from exc
    return plan, profile, run_dir, manifest, schedule


def _memory_sampler(plan: LoadPlan, services: RunServices, run_dir: Path, notes: list[str]) -> ResourceSampler | None:
    if not plan.options.get("sample_vendor_memory"):
        return None
    vendors = {k: v for k, v in services.processes.items() if k != "mock"}
    if not vendors:
        notes.append("vendor memory not observable: the vendor was not started by this run")
        return None
    interval = max(1.0, plan.duration_s / 120)
    return ResourceSampler(vendors, run_dir / "resources.jsonl", interval_s=interval).start()


def _shards_of(request: RunRequest, run_dir: Path, index: int, phase: str) -> list[dict[str, Any]]:
    """Remote workers' shards are on their own disks unless the folder is shared: report the missing ones."""
    return missing_shards(run_dir, index, phase) if request.remote_workers else []


def _finish(
    run_dir: Path,
    *,
    complete: bool,
    notes: list[str],
    failed_phases: list[str],
    shards_missing: list[dict[str, Any]],
    phases: list[dict[str, Any]],
    callbacks: dict[str, Any] | None = None,
    agents: AgentsPlan | None = None,
    run_tag: str = "",
    workers: int = 0,
) -> RunManifest:
    """Complete the manifest: partial when a phase failed, a worker went missing or its records did not arrive."""
    ended = time.time()
    missing = missing_workers(run_dir, ended)
    notes += failed_phases
    notes += missing_shard_notes(run_dir, shards_missing)
    notes += [
        note + lost_agents(agents, m["worker"], workers, run_tag)
        for note, m in zip(missing_worker_notes(missing), missing, strict=True)
    ]
    try:
        manifest: RunManifest = complete_manifest(
            run_dir,
            ended_at=ended,
            complete=complete and not missing and not failed_phases and not shards_missing,
            notes=notes,
            phases=phases,
            missing_workers=missing,
            missing_shards=shards_missing,
            # `scrmbench score` marks the run complete again once the shards are copied in (run_shards).
            partial_only_for_shards=bool(shards_missing) and complete and not missing and not failed_phases,
            callbacks=callbacks,
        )
    except OSError as exc:
        raise disk_guard(run_dir, exc) from exc
    return manifest


def execute(request: RunRequest) -> RunResult:
    plan, profile, run_dir, manifest, schedule = _prepare_with_schedule(request)
    timeline = FaultTimeline(run_dir / "faults.jsonl")
    complete = False
    disk_full = False
    notes: list[str] = []
    phases: list[dict[str, Any]] = []
    failed_phases: list[str] = []
    shards_missing: list[dict[str, Any]] = []
    services = start_services(
        profile,
        run_dir,
        owner_confirmed=request.owner_confirmed,
        source=str(request.vendor),
        mock_settings=plan.mock_settings_with(request.mock_settings),  # the scenario's, then the request's
        seed=request.seed,
        proxy=schedule is not None and schedule.needs_proxy,
        mock_shards=request.mock_shards,
    )
    sampler = _memory_sampler(plan, services, run_dir, notes)
    health = start_health(run_dir, services)
    callbacks = None
    callback_section: dict[str, Any] | None = None
    try:
        # The vendor's own reports (profile ``callbacks``): a receiver for the run, its URL given with each send.
        profile_now = services.profile
        callbacks = start_callbacks(
            profile_now, run_dir, secret=callback_secret(profile_now), per_message=takes_callback_url(profile_now)
        )
        services.profile = with_callback_url(services.profile, callbacks, services.profile_path)
        if callbacks is not None and profile_now.launch.kind == "mock" and services.mock_url:
            note = subscribe_at_mock(callbacks, services.mock_url, services.admin_token, profile_now.phone.id)
            notes += [note] if note else []
        for step in plan.setup:
            run_setup_step(step, services, timeline)
        with start_faults(plan, services, timeline, extra=schedule) as fault_notes:
            for index, phase in enumerate(plan.phases):
                for step in phase.setup:
                    run_setup_step(step, services, timeline)
                timeline.record("note", "phase-start", target=phase.name)
                phases.append({"name": phase.name, "started_at": time.time()})
                code, disk_full = _phase(request, plan, index, services, manifest, run_dir, timeline, health)
                phases[-1]["ended_at"] = time.time()
                shards_missing += _shards_of(request, run_dir, index, phase.name)
                if disk_full:
                    notes.append(f"stopped in phase {phase.name}: disk full while writing request records")
                    with contextlib.suppress(OSError):  # the timeline is on the same disk
                        timeline.record("note", "disk-full", target=str(run_dir), ok=False, detail=notes[-1])
                    break
                if code != 0:  # --exit-code-on-error 0: a non-zero code is Locust itself failing
                    failed_phases.append(f"Locust exited with code {code} in phase {phase.name}; see logs/")
        notes += fault_notes  # failed fault actions: recorded on the timeline, stated here, the run goes on
        if not disk_full:  # no drain and no export onto a full disk
            time.sleep(plan.drain_s)  # the drain period: late deliveries and webhooks reach the ledger
            notes += export_mock_records(services, run_dir)
            complete = True
    except KeyboardInterrupt:
        notes.append("interrupted by the user")
        raise
    except OSError as exc:
        raise disk_guard(run_dir, exc) from exc
    finally:
        if sampler is not None:
            sampler.stop()
        health.stop()  # before the services go: their last seconds are sampled, their exit is not
        callback_section = stop_callbacks(callbacks, run_dir)  # after the drain: late reports are in
        services.close()
        stop_health(None, run_dir)  # every process has stopped writing: fold the shards into health.parquet
        timeline.close()
        manifest = _finish(
            run_dir,
            complete=complete,
            notes=notes,
            failed_phases=failed_phases,
            shards_missing=shards_missing,
            phases=phases,
            callbacks=callback_section,
            agents=plan.agents,
            run_tag=manifest.run_tag or "",
            workers=request.workers + request.remote_workers,
        )
    if disk_full:  # after the services stopped and the manifest was left incomplete
        raise disk_full_error(run_dir)
    summary, met = score(run_dir, request.sla, request.rate_card)
    return RunResult(run_dir, manifest, summary, met)


def score(run_dir: Path, sla: str | None, rate_card: str | None = None) -> tuple[dict[str, Any] | None, bool | None]:
    """Score with analysis (as ``scrmbench score`` does); None when the run cannot be scored."""
    from analysis.exports import write_exports
    from analysis.load import load_run
    from analysis.rates import load_rate_card
    from analysis.sla_choice import choose_sla
    from analysis.summary import AnalysisOptions, build_summary
    from harness.config.sla import scope_names

    run = load_run(run_dir)
    options = AnalysisOptions(rate_card=load_rate_card(rate_card))
    summary = build_summary(run, sla=choose_sla(run, sla, default_criteria, scope_names()), options=options)
    try:
        write_exports(run_dir, summary)  # the same files as `scrmbench score`: summary.json and its CSV tables
    except OSError as exc:
        raise disk_guard(run_dir, exc) from exc
    verdict = summary.get("sla", {}).get("verdict")
    return summary, None if verdict is None else verdict == "PASS"
