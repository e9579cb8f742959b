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

VENDOR_DIR = Path(__file__).resolve().parent.parent / "vendors"
VENDORS = ("reference-steady", "reference-degrading", "reference-lossy")
MAX_PARALLEL = 5  # light loads; more processes than this only fight over two cores while starting

# Scenario sizes (``--param``): long enough for each figure the standard SLA needs, short enough for a demo.
# failover: sustained recovery needs its 10 s window and 60 s confirmation after the restore.
SIZES: dict[bool, dict[str, dict[str, float]]] = {
    True: {
        "failover": {"duration_s": 82, "rate": 8, "kill_at_s": 4, "down_s": 4, "drain_s": 4},
        "peak": {"duration_s": 20},
        "media-burst": {"uploads": 60},
    },
    False: {
        "failover": {"duration_s": 150, "rate": 10, "kill_at_s": 20, "down_s": 15, "drain_s": 8},
        "peak": {"duration_s": 60},
        "media-burst": {"uploads": 200},
    },
}
GRACE_S = 60.0  # beyond the planned length: start-up, drain, ledger export, scoring


@dataclass
class Job:
    vendor: str
    scenario: str
    params: dict[str, float]
    out: Path
    budget_s: float
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    problem: str = ""
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.out / "run.log"

    def args(self) -> list[str]:
        args = [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            "--vendor",
            str(VENDOR_DIR / f"{self.vendor}.yaml"),
            "--scenario",
            self.scenario,
            "--sla",
            "standard",
            "--seed",
            "7",
            "--out",
            str(self.out),
            "--quick",
            "--no-progress",
        ]
        for key, value in self.params.items():
            args += ["--param", f"{key}={value:g}"]
        return args


def _planned_s(scenario: str, params: dict[str, float]) -> float:
    if "duration_s" in params:
        return params["duration_s"]
    return params.get("uploads", 60) / 6.0  # media-burst: uploads at its quick rate of 6/s


def plan_jobs(folder: Path, *, quick: bool, vendors: tuple[str, ...] = VENDORS) -> list[Job]:
    """Longest scenarios first, so the short ones fill the gaps while they run."""
    jobs = [
        Job(vendor, scenario, params, folder / f"{vendor}-{scenario}", _planned_s(scenario, params) + GRACE_S)
        for scenario, params in SIZES[quick].items()
        for vendor in vendors
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
    if code not in (0, 1):  # 0 = SLA met, 1 = SLA missed: both are results
        lines = job.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        job.problem = f"exit {code}: {lines[-1][:300] if lines else 'no output'} (log: {job.log})"


def run_jobs(
    jobs: list[Job], *, max_parallel: int, progress: Callable[[str], None], poll_s: float = 0.5
) -> Iterator[Job]:
    """Run ``jobs`` at most ``max_parallel`` at a time; yield each when it is done."""
    waiting, running = list(jobs), list[Job]()
    total, done = len(jobs), 0
    try:
        while waiting or running:
            while waiting and len(running) < max_parallel:
                job = waiting.pop(0)
                _start(job)
                running.append(job)
                progress(f"started {job.scenario} against {job.vendor}")
            time.sleep(poll_s)
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
