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
from ground.secrets import install_log_redaction
from harness.adapters.registry import load_profile, parse_profile, read_credentials
from harness.loadgen.health_probe import GeneratorProbe
from harness.loadgen.locust_engine import OpenEngine, is_load_process
from harness.loadgen.options import EngineOptions, add_arguments
from harness.loadgen.plain_run import not_run_here
from harness.loadgen.session import build_session, params_for, plan_for
from harness.loadgen.stats_trim import trim_stats

log = logging.getLogger(__name__)
LIVE_FILE = "live.json"
WORKERS_FILE = "workers.json"


@events.init_command_line_parser.add_listener
def _options(parser: Any, **_: Any) -> None:
    add_arguments(parser)


@events.init.add_listener
def _init(environment: Environment, **_: Any) -> None:
    parsed = environment.parsed_options
    protect_secrets(parsed)
    if parsed is None or is_worker_process(environment):
        return
    # Decided once on the master (or local runner) and forwarded to workers with the spawn message.
    if not parsed.run_tag:
        parsed.run_tag = new_run_tag()
    if not parsed.run_id:
        vendor = Path(parsed.vendor).stem or "vendor"
        parsed.run_id = f"{parsed.scenario}-{vendor}-{time.strftime('%Y%m%dT%H%M%S')}-{parsed.run_tag}"
    if not parsed.results_dir:
        parsed.results_dir = str(Path("results") / parsed.run_id)


def protect_secrets(parsed: Any) -> None:
    """Scrub secrets from everything this Locust process logs or prints (its error report included).

    Locust configures its own handlers (root, ``locust`` and ``locust.stats_logger``, which does not propagate)
    before ``init``; each gets the redacting filter. Every process, the master included (which never builds an
    adapter), reads the vendor's credentials here so the registry knows them before the first request.
    """
    install_log_redaction([logging.getLogger("locust"), logging.getLogger("locust.stats_logger")])
    if parsed is None:
        return
    try:
        if getattr(parsed, "vendor_json", ""):
            vendor = parse_profile(orjson.loads(parsed.vendor_json), source="--vendor-json")
        elif getattr(parsed, "vendor", ""):
            vendor = load_profile(parsed.vendor)
        else:
            return
        read_credentials(vendor)
    except (ScrmbenchError, OSError, ValueError) as exc:
        # Building the session reports a bad profile or a missing variable properly, with its fix.
        log.debug("vendor credentials not registered at init: %s", type(exc).__name__)


def is_worker_process(environment: Environment) -> bool:
    from locust.runners import WorkerRunner

    return isinstance(environment.runner, WorkerRunner)


@events.test_start.add_listener
def _test_start(environment: Environment, **_: Any) -> None:
    options = EngineOptions.from_parsed(environment.parsed_options)
    run_dir = Path(options.results_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not is_load_process(environment):
        done: dict[str, bool] = {}
        environment.scrm_done = done  # type: ignore[attr-defined]

        def _worker_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
            if "scrm_done" in data:
                done[client_id] = bool(data["scrm_done"])

        environment.events.worker_report.add_listener(_worker_report)
        _ensure_manifest(environment, options, run_dir)
        environment.scrm_live = gevent.spawn(_publish_live, environment, run_dir)  # type: ignore[attr-defined]
        return
    session = build_session(environment)
    environment.scrm_session = session  # type: ignore[attr-defined]
    if not getattr(environment, "scrm_recorder", None):
        from harness.recorder import install_recorder

        environment.scrm_recorder = install_recorder(  # type: ignore[attr-defined]
            environment,
            run_dir,
            vendor=session.vendor.name,
            scenario=session.plan.scenario,
            worker=f"{session.worker_name}-p{options.phase}",
        )
    if environment.runner is not None and not isinstance(environment.runner, MasterRunner):
        if session.worker_name == "local":
            _ensure_manifest(environment, options, run_dir)
            environment.scrm_live = gevent.spawn(_publish_live, environment, run_dir)  # type: ignore[attr-defined]
    engine = None
    if session.plan.load_model == "open":
        engine = OpenEngine(environment, session)
        environment.scrm_engine = engine  # type: ignore[attr-defined]
        engine.start()
    if getattr(environment, "scrm_probe", None) is None:  # the generator's own loop lag and lateness
        environment.scrm_probe = GeneratorProbe(run_dir, session.worker_name, engine=engine).start()  # type: ignore[attr-defined]
    if engine is not None:
        if is_worker_process(environment):
            # Tell the master when this worker's share is through, so a distributed run ends without waiting
            # for the time limit.
            def _report(client_id: str, data: dict[str, Any], **_: Any) -> None:
                data["scrm_done"] = engine.done()

            environment.events.report_to_master.add_listener(_report)


@events.test_stop.add_listener
def _test_stop(environment: Environment, **_: Any) -> None:
    probe = getattr(environment, "scrm_probe", None)
    if probe is not None:
        probe.stop()
        environment.scrm_probe = None  # type: ignore[attr-defined]
    engine = getattr(environment, "scrm_engine", None)
    if engine is not None:
        engine.stop()
        environment.scrm_engine = None  # type: ignore[attr-defined]
    live = getattr(environment, "scrm_live", None)
    if live is not None:
        live.kill(block=False)
        options = EngineOptions.from_parsed(environment.parsed_options)
        _write_live(environment, Path(options.results_dir), final=True)


def _ensure_manifest(environment: Environment, options: EngineOptions, run_dir: Path) -> None:
    """A plain ``locust -f`` run writes its own manifest; under ``scrmbench run`` the runner already did."""
    if (run_dir / "manifest.json").exists():
        return
    from ground.records import RunManifest
    from harness.results import write_manifest

    plan, _ = plan_for(environment)
    skipped = not_run_here(plan, options.phase)
    for part in skipped:
        log.warning("plain locust run: %s", part)
    manifest = RunManifest(
        run_id=options.run_id,
        run_tag=options.run_tag,
        scenario=options.scenario,
        scenario_params=params_for(environment).model_dump(mode="json"),
        vendor={"profile": options.vendor},
        seed=options.seed,
        load_model=plan.load_model,
        started_at=time.time(),
        notes=["started with locust -f locustfile.py" + (" --quick" if options.quick else ""), *skipped],
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
    memory: dict[str, Any] = getattr(runner, "scrm_workers", {})
    now = time.time()
    for client_id, node in runner.clients.items():
        key = f"worker-{runner.get_worker_index(client_id)}"
        entry = memory.setdefault(key, {"client_id": client_id, "first_seen": now, "missing_since": None})
        entry["state"] = node.state
        if node.state == STATE_MISSING and entry["missing_since"] is None:
            entry["missing_since"] = now
    runner.scrm_workers = memory  # type: ignore[attr-defined]
    return memory


def _atomic_write(path: Path, data: Any) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY))
    os.replace(temporary, path)
