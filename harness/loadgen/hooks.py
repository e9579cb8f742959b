"""Locust event listeners that make ``locust -f locustfile.py`` a scrmbench run (imported by the locustfile).

- every process: the scenario options on the command line and in the web UI; secrets scrubbed from its logs
  and error report (the vendor's credentials registered at init, the master's included);
- master or local runner: fill in the run id, run tag and results folder before workers receive the options,
  write ``manifest.json`` when no runner wrote it (with a note, and a warning at start, for each part of the
  scenario only ``scrmbench run`` performs: fault schedule, setup steps, other phases, ledger export),
  publish ``live.json`` once a second (rps, p95, errors,
  dropped slots, missing workers) for the progress display, and note which workers went missing and when;
- workers and local runner: build the session, attach the recorder, start the open model's dispatcher.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import gevent
import orjson
from locust import events
from locust.env import Environment
from locust.runners import STATE_MISSING, MasterRunner

from ground.correlation import new_run_tag
from ground.errors import ScrmbenchError
from ground.records import RunManifest
from ground.secrets import install_log_redaction
from harness.adapters.registry import load_profile, parse_profile, read_credentials
from harness.config.profiles import VendorProfile
from harness.loadgen.context import adopt_spec, context_of, params_for, plan_for, prepare_spec, spec_of
from harness.loadgen.health_probe import GeneratorProbe
from harness.loadgen.locust_engine import OpenEngine, is_load_process
from harness.loadgen.options import add_arguments
from harness.loadgen.plain_run import not_run_here
from harness.loadgen.session import build_session
from harness.loadgen.spec import WIRE_OPTION, RunSpec
from harness.loadgen.stats_trim import trim_stats
from harness.recorder import install_recorder
from harness.results import write_manifest

log = logging.getLogger(__name__)
LIVE_FILE = "live.json"
WORKERS_FILE = "workers.json"


@events.init_command_line_parser.add_listener
def _options(parser: Any, **_: Any) -> None:
    add_arguments(parser)


@events.init.add_listener
def _init(environment: Environment, **_: Any) -> None:
    parsed = environment.parsed_options
    if parsed is None:
        protect_secrets(None)
        return
    if not is_worker_process(environment) and not getattr(parsed, "run_spec", ""):
        # Decided once on the master (or local runner); its run spec reaches workers with the spawn message.
        if not parsed.run_tag:
            parsed.run_tag = new_run_tag()
        if not parsed.run_id:
            vendor = Path(parsed.vendor).stem or "vendor"
            parsed.run_id = f"{parsed.scenario}-{vendor}-{time.strftime('%Y%m%dT%H%M%S')}-{parsed.run_tag}"
        if not parsed.results_dir:
            parsed.results_dir = str(Path("results") / parsed.run_id)
    protect_secrets(None, spec=_early_spec(environment))


def _early_spec(environment: Environment) -> RunSpec | None:
    """The run spec at init: ``--run-spec``, or (master, local runner) built from the options; None on a worker
    that gets it with the spawn message. A bad one is reported properly when the session is built."""
    try:
        spec = adopt_spec(environment)
        if spec is None and not is_worker_process(environment):
            spec = prepare_spec(environment)
        return spec
    except (ScrmbenchError, OSError, ValueError, KeyError, TypeError) as exc:
        log.debug("run spec not read at init: %s", type(exc).__name__)
        return None


def protect_secrets(parsed: Any, *, spec: RunSpec | None = None) -> None:
    """Scrub secrets from everything this Locust process logs or prints (its error report included).

    Locust configures its own handlers (root, ``locust`` and ``locust.stats_logger``, which does not propagate)
    before ``init``; each gets the redacting filter. Every process, the master included (which never builds an
    adapter), reads the vendor's credentials from its run spec so the registry knows them before the first
    request (without a spec: from ``--vendor-json`` or ``--vendor`` in ``parsed``).
    """
    install_log_redaction([logging.getLogger("locust"), logging.getLogger("locust.stats_logger")])
    if spec is not None:
        _register_credentials(spec.profile)
        return
    try:
        if getattr(parsed, "vendor_json", ""):
            vendor = parse_profile(orjson.loads(parsed.vendor_json), source="--vendor-json")
        elif getattr(parsed, "vendor", ""):
            vendor = load_profile(parsed.vendor)
        else:
            return
    except (ScrmbenchError, OSError, ValueError) as exc:
        log.debug("vendor profile not read at init: %s", type(exc).__name__)
        return
    _register_credentials(vendor)


def _register_credentials(vendor: VendorProfile) -> None:
    try:
        read_credentials(vendor)
    except (ScrmbenchError, OSError, ValueError) as exc:
        # Building the session reports a bad profile or a missing variable properly, with its fix.
        log.debug("vendor credentials not registered at init: %s", type(exc).__name__)


def is_worker_process(environment: Environment) -> bool:
    from locust.runners import WorkerRunner

    return isinstance(environment.runner, WorkerRunner)


@events.test_start.add_listener
def _test_start(environment: Environment, **_: Any) -> None:
    context = context_of(environment)
    if context.spec is None and is_worker_process(environment):
        received = adopt_spec(environment)  # the master's spec, just arrived with the spawn message
        if received is not None:
            _register_credentials(received.profile)
    spec = spec_of(environment)
    run_dir = Path(spec.results_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not is_load_process(environment):
        # Workers receive the spec inside the spawn message (Locust forwards the parsed options).
        setattr(environment.parsed_options, WIRE_OPTION, spec.wire_json())
        done = context.done

        def _worker_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
            if "scrm_done" in data:
                done[client_id] = bool(data["scrm_done"])

        environment.events.worker_report.add_listener(_worker_report)
        _ensure_manifest(environment, spec, run_dir)
        context.live = gevent.spawn(_publish_live, environment, run_dir)
        return
    session = build_session(environment, spec, *plan_for(environment), users=int(params_for(environment).users))
    context.session = session
    if not context.recorder:
        context.recorder = install_recorder(
            environment,
            run_dir,
            vendor=session.vendor.name,
            scenario=session.plan.scenario,
            worker=f"{session.worker_name}-p{spec.phase}",
        )
    if environment.runner is not None and not isinstance(environment.runner, MasterRunner):
        if session.worker_name == "local":
            _ensure_manifest(environment, spec, run_dir)
            context.live = gevent.spawn(_publish_live, environment, run_dir)
    engine = None
    if session.plan.load_model == "open":
        engine = OpenEngine(environment, session)
        context.engine = engine
        engine.start()
    context.agents = context.agents or _start_agents(environment, session, run_dir)
    if context.probe is None:  # the generator's own loop lag and lateness
        context.probe = GeneratorProbe(run_dir, session.worker_name, engine=engine).start()
    if engine is not None:
        if is_worker_process(environment):
            # Tell the master when this worker's share is through, so a distributed run ends without waiting
            # for the time limit.
            def _report(client_id: str, data: dict[str, Any], **_: Any) -> None:
                data["scrm_done"] = engine.done()

            environment.events.report_to_master.add_listener(_report)


@events.test_stopping.add_listener
def _test_stopping(environment: Environment, **_: Any) -> None:
    # Idle users block on the slot queue; release them so Locust stops them at once, not after --stop-timeout.
    engine = context_of(environment).engine
    if engine is not None:
        engine.release_users()


def _start_agents(environment: Environment, session: Any, run_dir: Path) -> Any:
    """This process's agents (contact-centre runs), or None when the dialect has no agent operations."""
    from harness.loadgen.agents import AgentDesk, agents_supported

    plan = session.plan.agents
    if plan is None:
        return None
    if not agents_supported(session.performer.adapter):
        dialect = session.vendor.adapter
        log.warning("the %s dialect has no agent operations: the agents figures are not measured", dialect)
        return None
    desk = AgentDesk(environment, session, plan, run_dir)
    desk.start()
    return desk


@events.test_stop.add_listener
def _test_stop(environment: Environment, **_: Any) -> None:
    context = context_of(environment)
    if context.probe is not None:
        context.probe.stop()
        context.probe = None
    if context.engine is not None:
        context.engine.stop()
        context.engine = None
    if context.agents is not None:
        context.agents.stop()  # one last inbox read per agent, then its greenlets end
        context.agents.close()
        context.agents = None
    if context.session is not None:
        context.session.executor.close()
    if context.live is not None:
        context.live.kill(block=False)
        _write_live(environment, Path(spec_of(environment).results_dir), final=True)


def _ensure_manifest(environment: Environment, spec: RunSpec, run_dir: Path) -> None:
    """A plain ``locust -f`` run writes its own manifest; under ``scrmbench run`` the runner already did."""
    if (run_dir / "manifest.json").exists():
        return
    plan, _ = plan_for(environment)
    skipped = not_run_here(plan, spec.phase)
    for part in skipped:
        log.warning("plain locust run: %s", part)
    manifest = RunManifest(
        run_id=spec.run_id,
        run_tag=spec.run_tag,
        scenario=spec.scenario,
        scenario_params=params_for(environment).model_dump(mode="json"),
        vendor={"profile": getattr(environment.parsed_options, "vendor", "")},
        seed=spec.seed,
        load_model=plan.load_model,
        started_at=time.time(),
        notes=["started with locust -f locustfile.py" + (" --quick" if spec.quick else ""), *skipped],
    )
    write_manifest(run_dir, manifest)


def _publish_live(environment: Environment, run_dir: Path) -> None:
    ticks = 0
    while True:
        gevent.sleep(1.0)
        ticks += 1
        try:
            _write_live(environment, run_dir)
            if ticks % 30 == 0 and environment.runner is not None:
                trim_stats(environment.runner.stats, time.time())  # bounded memory on long runs
        except Exception:  # the display is a convenience; never let it stop the run
            log.exception("could not write %s", LIVE_FILE)


def _write_live(environment: Environment, run_dir: Path, *, final: bool = False) -> None:
    runner = environment.runner
    if runner is None:
        return
    stats = runner.stats
    total = stats.total
    dropped = sum(entry.num_requests for (name, method), entry in stats.entries.items() if method == "DROP")
    workers = _worker_states(runner)
    data = {
        "at": time.time(),
        "elapsed_s": time.time() - (total.start_time or time.time()),
        "requests": total.num_requests,
        "failures": total.num_failures,
        "dropped": dropped,
        "rps": total.current_rps,
        "p95_ms": total.get_current_response_time_percentile(0.95) or 0.0,
        "users": runner.user_count,
        "workers": workers,
        "final": final,
    }
    _atomic_write(run_dir / LIVE_FILE, data)
    if isinstance(runner, MasterRunner):
        _atomic_write(run_dir / WORKERS_FILE, workers)


def _worker_states(runner: Any) -> dict[str, Any]:
    """Per worker index: its state and, once it went missing, since when (issue 10: which window is missing)."""
    if not isinstance(runner, MasterRunner):
        return {}
    memory = context_of(runner.environment).workers
    now = time.time()
    for client_id, node in runner.clients.items():
        key = f"worker-{runner.get_worker_index(client_id)}"
        entry = memory.setdefault(key, {"client_id": client_id, "first_seen": now, "missing_since": None})
        entry["state"] = node.state
        if node.state == STATE_MISSING and entry["missing_since"] is None:
            entry["missing_since"] = now
    return memory


def _atomic_write(path: Path, data: Any) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY))
    os.replace(temporary, path)
