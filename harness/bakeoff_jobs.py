"""The demo's runs as jobs: which vendor × scenario with which sizes, run a few at a time, each bounded in time.

Each job is one ``scrmbench run`` process in its own session, so a job past its deadline can be stopped as a
whole (SIGINT first, which lets the runner stop its mock and vendor and mark the run partial; then SIGTERM,
then SIGKILL for that job's process group only).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

VENDOR_DIR = Path(__file__).resolve().parent.parent / "vendors"
# How many trials run at once is planned by the machine (``harness.bakeoff_schedule``), never a constant here.


@dataclass(frozen=True)
class Deployment:
    """How a candidate is deployed for a scenario: a shipped profile, optionally with another launch profile."""

    base: str  # vendors/<base>.yaml
    launch_profile: str | None = None  # e.g. slow-failover for the HA pair


# The three candidates of the demo. Each is one vendor in the scorecard; for failover it is deployed as it would
# be in production: steady as an HA pair with automatic failover, degrading as an HA pair failed over by hand
# (47 minutes, scaled), lossy as a single process with an in-memory queue.
CANDIDATES: dict[str, dict[str, Deployment]] = {
    "steady": {"*": Deployment("reference-steady"), "failover": Deployment("reference-ha-pair")},
    "degrading": {"*": Deployment("reference-degrading"), "failover": Deployment("reference-ha-pair", "slow-failover")},
    "lossy": {"*": Deployment("reference-lossy")},
}
# The demo's promise, checked after every demo (``DemoResult.call_problems``): each candidate's verdict and, for a
# failure, the designed cause (scenario, metric) that must be among its failed criteria and lead its reasons.
EXPECTED: dict[str, tuple[str, tuple[str, str] | None]] = {
    "steady": ("PASS", None),
    "degrading": ("FAIL", ("peak", "reply_latency_ms")),  # reply latency climbs at peak
    "lossy": ("FAIL", ("failover", "lost_messages")),  # acknowledged messages lost
}

# Scenario sizes (``--param``): long enough for each figure the SLA needs, short enough for a demo.
# failover: every demo job runs with --quick, so sustained recovery uses the quick windows (2 s + 8 s confirmation).
# Sizes chosen so each candidate's known weakness shows (mocks/vendors/profiles.py, the truths):
# - peak bursts to 60 customer messages/s for a third of the run: above degrading's 40/s capacity, so its
#   reply time climbs; steady's 8 workers keep up.
# - failover offers 30 sends/s: above lossy's 20/s, so its in-memory queue fills and it drops acknowledged
#   messages (and the kill loses the queue); steady's durable HA pair loses none.
# - failover keeps the primary down longer than a hand-operated switch takes (6 s detection + 28 s scaled
#   operator), so only an automatic standby recovers quickly; a single process is simply down (in the full
#   demo for longer than the failover scenario's 90 s RTO).
# The recovery windows must fit after the restore inside the run, hence the failover length.
# - media-burst offers 200 uploads (and 200 texts) in the quick demo too: its error-rate criterion (≤ 1%) is
#   decided only on about 380 requests without an error (the Wilson bound on 0 of n is 3.84 / (n + 3.84)); 60
#   uploads left it inconclusive for every candidate.
SIZES: dict[bool, dict[str, dict[str, float]]] = {
    True: {
        "failover": {"duration_s": 80, "rate": 30, "kill_at_s": 3, "down_s": 45, "drain_s": 3},
        "peak": {"duration_s": 30, "rate": 10, "spike_factor": 6},
        "media-burst": {"uploads": 200},
    },
    False: {
        "failover": {"duration_s": 150, "rate": 30, "kill_at_s": 10, "down_s": 100, "drain_s": 8},
        "peak": {"duration_s": 60, "rate": 10, "spike_factor": 6},
        "media-burst": {"uploads": 200},
    },
}
GRACE_S = 60.0  # beyond the planned length: start-up, drain, ledger export, scoring


def write_profile(candidate: str, scenario: str, folder: Path) -> Path:
    """The candidate's profile for ``scenario``: the shipped one, renamed so every run carries the candidate."""
    deployment = CANDIDATES[candidate].get(scenario) or CANDIDATES[candidate]["*"]
    data = yaml.safe_load((VENDOR_DIR / f"{deployment.base}.yaml").read_text(encoding="utf-8"))
    data["name"] = candidate
    if deployment.launch_profile:
        data["launch"]["profile"] = deployment.launch_profile
    data["notes"] = f"demo candidate '{candidate}' for {scenario}: {deployment.base}" + (
        f" with launch profile {deployment.launch_profile}" if deployment.launch_profile else ""
    )
    path = folder / "profiles" / f"{candidate}-{scenario}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Job:
    vendor: str
    scenario: str
    params: dict[str, float]
    out: Path
    budget_s: float
    profile: Path | None = None
    sla: str | None = None  # None: the scenario's own criteria (what `scrmbench score` picks without --sla)
    parallel_trials: int = 1  # trials of the bake-off that may run at once (each run's capacity check counts them)
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    problem: str = ""
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.out / "run.log"

    def args(self) -> list[str]:
        profile = self.profile or VENDOR_DIR / f"{self.vendor}.yaml"
        args = [sys.executable, "-m", "harness.cli", "run", "--vendor", str(profile), "--scenario", self.scenario]
        args += ["--seed", "7", "--out", str(self.out), "--quick", "--no-progress"]
        args += ["--parallel-trials", str(self.parallel_trials)]
        if self.sla:
            args += ["--sla", self.sla]
        for key, value in self.params.items():
            args += ["--param", f"{key}={value:g}"]
        return args


def _planned_s(params: dict[str, float]) -> float:
    if "duration_s" in params:
        return params["duration_s"]
    return params.get("uploads", 60) / 6.0  # media-burst: uploads at its quick rate of 6/s


def plan_jobs(folder: Path, *, quick: bool, sla: str | None = None) -> list[Job]:
    """Every candidate × scenario, longest first, so the short ones fill the gaps while they run."""
    jobs = [
        Job(
            candidate,
            scenario,
            params,
            folder / f"{candidate}-{scenario}",
            _planned_s(params) + GRACE_S,
            write_profile(candidate, scenario, folder),
            sla,
        )
        for scenario, params in SIZES[quick].items()
        for candidate in CANDIDATES
    ]
    return sorted(jobs, key=lambda j: -j.budget_s)


def _start(job: Job) -> None:
    job.out.mkdir(parents=True, exist_ok=True)
    with job.log.open("wb") as log:
        job.process = subprocess.Popen(job.args(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    job.started = time.monotonic()


def _stop(job: Job) -> None:
    """Past its budget: interrupt the job's own process group, then insist."""
    assert job.process is not None
    group = job.process.pid  # start_new_session: the job's process group id is its pid
    for sig, wait_s in ((signal.SIGINT, 20.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        try:
            job.process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def _finish(job: Job) -> None:
    assert job.process is not None
    code = job.process.returncode
    if code not in (0, 1, 5):  # 0 = SLA met, 1 = SLA missed, 5 = SLA undecided (too little data): all results
        lines = job.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        job.problem = f"exit {code}: {lines[-1][:300] if lines else 'no output'} (log: {job.log})"


Tick = Callable[[list["Job"], int, int], None]  # running jobs, how many wait, how many are done
Admit = Callable[[list["Job"], "Job"], tuple[bool, str]]  # may the next job start now, and why not


def run_jobs(
    jobs: list[Job],
    *,
    max_parallel: int,
    progress: Callable[[str], None],
    poll_s: float = 0.5,
    tick: Tick | None = None,
    admit: Admit | None = None,
) -> Iterator[Job]:
    """Run ``jobs`` at most ``max_parallel`` at a time, each started only when ``admit`` agrees (a job always
    starts when nothing runs); yield each when it is done; ``tick`` after every poll (a live display)."""
    waiting, running = list(jobs), list[Job]()
    total, done = len(jobs), 0
    try:
        while waiting or running:
            while waiting and len(running) < max_parallel:
                if admit is not None and running and not admit(running, waiting[0])[0]:
                    break
                job = waiting.pop(0)
                _start(job)
                running.append(job)
                progress(f"started {job.scenario} against {job.vendor}")
            time.sleep(poll_s)
            if tick is not None:
                tick(running, len(waiting), done)
            for job in list(running):
                assert job.process is not None
                over = time.monotonic() - job.started > job.budget_s
                if job.process.poll() is None and not over:
                    continue
                if job.process.poll() is None:
                    _stop(job)
                    job.problem = f"stopped after {job.budget_s:.0f} s, its time budget"
                else:
                    _finish(job)
                running.remove(job)
                done += 1
                took = time.monotonic() - job.started
                verdict = f"problem: {job.problem}" if job.problem else f"done in {took:.0f} s"
                progress(f"[{done}/{total}] {job.scenario} against {job.vendor}: {verdict}")
                yield job
    finally:
        for job in running:  # interrupted: leave nothing behind
            _stop(job)
