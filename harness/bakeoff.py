"""``scrmbench demo``: the one-command bake-off of the reference vendors, ending in a scorecard.

Plan: three candidates built from the reference vendor with known behaviour (steady, degrading, lossy; see
``bakeoff_jobs.CANDIDATES`` for how each is deployed) × three short scenarios (peak, media-burst, failover),
each a ``scrmbench run`` of its own (several at once: a separate process per run keeps their mocks, vendors
and Locust apart), scored against each scenario's own criteria (or ``--sla``), then one scorecard. The demo
checks its own call (``bakeoff_jobs.EXPECTED``): steady must PASS; degrading must FAIL for its reply latency at
peak and lossy for lost acknowledged messages, each led by that reason; an INCONCLUSIVE or INCOMPLETE verdict is
not the designed call either. It says which check failed.

Before any load it proves the loop is alive: the mock starts on a free loopback port and accepts a message.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import json
import shutil
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from analysis.harness_health import harness_bound
from analysis.scorecard import Scorecard, make_scorecard, render
from ground.cores import usable_cores
from ground.errors import HarnessError
from harness.bakeoff_jobs import CANDIDATES, EXPECTED, Job, Tick, plan_jobs, run_jobs
from harness.bakeoff_schedule import TrialScheduler
from harness.run.calibrate import calibrate, load_cached
from harness.stack.local import start_mock
from harness.stack.mock import mock_admin_token

MOCK_TOKEN = "mock-access-token"  # the mock's documented development default (docs/contracts.md)
MOCK_PHONE_ID = "100000000000001"
Progress = Callable[[str], None]


@dataclass
class DemoResult:
    folder: Path
    mock_check: str
    runs: list[Path] = field(default_factory=list)
    scorecard: Path | None = None
    verdicts: dict[str, tuple[str, float | None, str]] = field(default_factory=dict)  # vendor → verdict, score, why
    skipped: str = ""
    failures: list[str] = field(default_factory=list)
    card: Scorecard | None = None
    failed: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # vendor → failed (scenario, metric)
    harness_bound: list[str] = field(default_factory=list)  # "<vendor> <scenario>: <reason>", after the re-runs
    reruns: list[str] = field(default_factory=list)  # trials run again alone because they were harness-bound

    def call_problems(self) -> list[str]:
        """How the scorecard differs from the demo's design, in words; empty when it ranks the references as
        designed (steady PASS; degrading and lossy FAIL, each for its designed cause, which leads its reasons)."""
        if not self.verdicts:
            return ["nothing was scored"]
        problems = [f"{vendor} is missing from the scorecard" for vendor in CANDIDATES if vendor not in self.verdicts]
        for vendor, (want, cause) in EXPECTED.items():
            if vendor not in self.verdicts:
                continue
            verdict, _score, why = self.verdicts[vendor]
            if verdict != want:
                problems.append(f"{vendor} is {verdict}, designed to {want}" + (f" ({why})" if why else ""))
            elif cause is not None:
                scenario, metric = cause
                if cause not in self.failed.get(vendor, []):
                    problems.append(f"{vendor} failed, but not on {metric} in {scenario}, its designed weakness")
                elif not why.startswith(f"{scenario}:"):
                    problems.append(f"{vendor}'s first reason is not its designed cause ({metric} in {scenario})")
        return problems

    @property
    def right_call(self) -> bool:
        """The demo ranks the references as designed (``call_problems`` is empty)."""
        return not self.call_problems()


def prove_mock(folder: Path, progress: Progress) -> str:
    """Start the mock, send one message through its Graph API, read it back from the ledger; stop the mock."""
    with ExitStack() as stack:
        progress("starting the mock WhatsApp Cloud API on loopback")
        workdir = folder / "preflight"
        workdir.mkdir(parents=True, exist_ok=True)
        base = start_mock(workdir, stack)
        body = {
            "messaging_product": "whatsapp",
            "to": "15550001111",
            "type": "text",
            "text": {"body": "scrmbench demo preflight"},
        }
        with httpx.Client(base_url=base, timeout=10.0, trust_env=False) as client:
            sent = client.post(
                f"/v23.0/{MOCK_PHONE_ID}/messages", json=body, headers={"Authorization": f"Bearer {MOCK_TOKEN}"}
            )
            if sent.status_code != 200:
                raise HarnessError(f"the mock refused the preflight message: HTTP {sent.status_code} {sent.text[:200]}")
            wamid = sent.json()["messages"][0]["id"]
            ledger = client.get(
                "/_mock/ledger", params={"format": "ndjson"}, headers={"Authorization": f"Bearer {mock_admin_token()}"}
            )
        rows = [line for line in ledger.text.splitlines() if line.strip()]
        found = any(wamid in line for line in rows)
        check = f"mock at {base} accepted a message ({wamid}) and its ledger {'holds' if found else 'lacks'} it"
        progress(check)
        if not found:
            raise HarnessError("the mock's ledger does not hold the message it accepted; see preflight/mock.log")
        return check


def runner_available() -> bool:
    """True once ``scrmbench run`` exists in this checkout (harness/commands/run.py)."""
    return importlib.util.find_spec("harness.commands.run") is not None


def find_run_folder(out: Path) -> Path | None:
    """The results folder ``scrmbench run --out`` wrote: ``out`` itself or the newest run folder inside it."""
    if (out / "manifest.json").is_file():
        return out
    found = sorted(p.parent for p in out.glob("*/manifest.json"))
    return found[-1] if found else None


def demo_folder(root: Path, now: dt.datetime | None = None) -> Path:
    stamp = (now or dt.datetime.now(tz=dt.UTC)).strftime("%Y%m%d-%H%M%S")
    return root / f"demo-{stamp}"


def harness_bound_reason(run_folder: Path) -> str | None:
    """The analysis's harness-bound reason for a scored run (``summary.json`` ``harness``); None when healthy."""
    try:
        summary = json.loads((run_folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return harness_bound(summary)


def machine_scheduler(progress: Progress) -> TrialScheduler:
    """The trial plan of this machine: its calibration (measured first when there is none) and its cores."""
    calibration = load_cached()
    if calibration is None:
        progress("calibrating this machine first (once; cached for later demos and runs): `scrmbench calibrate`")
        calibration, path = calibrate(progress=progress)
        progress(f"calibration cached in {path}")
    return TrialScheduler(usable_cores(), calibration)


def _collect(result: DemoResult, job: Job) -> Path | None:
    if job.problem:
        result.failures.append(f"{job.vendor} {job.scenario}: {job.problem}")
    return find_run_folder(job.out)


def _rerun_alone(result: DemoResult, jobs: list[Job], folders: dict[str, Path], progress: Progress) -> None:
    """A trial the analysis found harness-bound is run again alone, once; its first folder is kept aside."""
    bound = [job for job in jobs if job.vendor + job.scenario in folders]
    bound = [job for job in bound if harness_bound_reason(folders[job.vendor + job.scenario])]
    for job in bound:
        reason = harness_bound_reason(folders[job.vendor + job.scenario])
        progress(f"{job.scenario} against {job.vendor} was harness-bound ({reason}): running it again alone")
        result.reruns.append(f"{job.vendor} {job.scenario}")
        aside = job.out.with_name(f"{job.out.name}-harness-bound")
        shutil.rmtree(aside, ignore_errors=True)
        job.out.rename(aside)
        job.parallel_trials, job.problem, job.process = 1, "", None
        for done in run_jobs([job], max_parallel=1, progress=progress):
            folder = _collect(result, done)
            if folder is None:
                folders.pop(job.vendor + job.scenario, None)
            else:
                folders[job.vendor + job.scenario] = folder


def run_bakeoff(
    result: DemoResult,
    *,
    quick: bool,
    progress: Progress,
    sla: str | None = None,
    tick: Tick | None = None,
    scheduler: TrialScheduler | None = None,
) -> DemoResult:
    """Every vendor × scenario (as many at once as the machine allows, each its own ``scrmbench run``); trials
    found harness-bound run again alone; then one scorecard."""
    jobs = plan_jobs(result.folder, quick=quick, sla=sla)
    scheduler = scheduler or machine_scheduler(progress)
    progress(f"planning the trials: {scheduler.describe(jobs)}")
    for job in jobs:
        job.parallel_trials = scheduler.max_parallel
    folders: dict[str, Path] = {}
    for job in run_jobs(jobs, max_parallel=scheduler.max_parallel, progress=progress, tick=tick, admit=scheduler.admit):
        folder = _collect(result, job)
        if folder is not None:
            folders[job.vendor + job.scenario] = folder
    _rerun_alone(result, jobs, folders, progress)
    result.runs = sorted(folders.values())
    for job in jobs:
        key = job.vendor + job.scenario
        reason = harness_bound_reason(folders[key]) if key in folders else None
        if reason:
            result.harness_bound.append(f"{job.vendor} {job.scenario}: {reason}")
    if not result.runs:
        raise HarnessError("no run of the bake-off produced records: " + "; ".join(result.failures))
    progress("writing the scorecard")
    # Each run was scored by `scrmbench run` (with --sla when given): its summary.json is used as written.
    card = make_scorecard(sorted(result.runs), title="scrmbench demo: three reference candidates")
    result.card = card
    result.scorecard = render.write(card, result.folder / "scorecard.html", "html")
    for fmt in ("md", "json", "csv"):
        render.write(card, result.folder / f"scorecard.{fmt}", fmt)
    for scored in card.vendors:
        result.verdicts[scored.name] = (scored.verdict, scored.score, "; ".join(scored.reasons[:2]))
        result.failed[scored.name] = [(c.scenario, c.metric) for c in scored.criteria if c.status == "fail"]
    return result


def run_demo(
    root: Path, *, quick: bool, progress: Progress, sla: str | None = None, tick: Tick | None = None
) -> DemoResult:
    """Preflight the mock, then the bake-off when the runner is installed; the scorecard last."""
    folder = demo_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    result = DemoResult(folder, prove_mock(folder, progress))
    if not runner_available():
        result.skipped = "`scrmbench run` is not installed in this checkout yet; only the mock was checked"
        return result
    return run_bakeoff(result, quick=quick, progress=progress, sla=sla, tick=tick)
