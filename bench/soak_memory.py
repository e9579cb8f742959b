"""Soak memory: the whole loop (mock + reference vendor + Locust + runner) at a steady rate, RSS per process.

Runs the ``webhook-storm`` scenario (sends, status webhooks and customer messages: every part of the loop
works) for the soak's length, samples each process's RSS, fits a line to the samples of the load phase after its
first quarter (warm-up) and prints each process's growth as % of its mean RSS per hour. Start-up before the load
and the export and scoring after it are not the soak, so their samples are left out of the fit. Target: under 5%
per hour. The LAST line ends with the worst process's figure; the full soak exits 1 when the target is missed.

    .venv/bin/python bench/soak_memory.py            # one compressed hour, a sample a minute (make soak)
    .venv/bin/python bench/soak_memory.py --quick    # 90 s, a sample every 5 s (make bench, make test)

``--quick`` checks that the whole loop runs and every process is sampled; 90 s cannot measure an hourly slope
(allocator and cache warm-up dominate), so it never fails on the target.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from harness.loadgen.start import read_load_start
from harness.run.runner import RunRequest, RunResult, execute

VENDOR = Path(__file__).resolve().parents[1] / "vendors" / "reference-steady.yaml"
TARGET_PER_HOUR = 5.0  # % of mean RSS, after warm-up


def role_of(process: psutil.Process) -> str | None:
    try:
        cmdline = " ".join(process.cmdline())
    except psutil.Error:
        return None
    if "mock serve" in cmdline:
        return "mock"
    if "vendor serve" in cmdline:
        return "vendor"
    if "locust" in cmdline:
        return "locust"
    return None


def sample(samples: dict[str, list[tuple[float, float]]]) -> None:
    """One RSS sample per process, keyed by role (and pid when a role has several processes: never mixed)."""
    me = psutil.Process()
    now = time.time()
    samples.setdefault("runner", []).append((now, me.memory_info().rss))
    seen: dict[str, int] = {}
    for child in me.children(recursive=True):
        role = role_of(child)
        if role is None:
            continue
        try:
            rss = child.memory_info().rss
        except psutil.Error:
            continue
        seen[role] = seen.get(role, 0) + 1
        key = role if seen[role] == 1 else f"{role}#{child.pid}"
        samples.setdefault(key, []).append((now, rss))


def load_phase(results_root: Path, duration: float) -> tuple[float, float] | None:
    """The load's own start and end (wall clock), from the start it wrote to its run folder."""
    for run_dir in results_root.iterdir():
        start = read_load_start(run_dir) if run_dir.is_dir() else None
        if start is not None:
            return start, start + duration
    return None


def growth_per_hour(points: list[tuple[float, float]]) -> float | None:
    steady = points[len(points) // 4 :]
    if len(steady) < 3:
        return None
    t = np.array([p[0] for p in steady])
    rss = np.array([p[1] for p in steady])
    slope = float(np.polyfit(t - t[0], rss, 1)[0])  # bytes per second
    return 100.0 * slope * 3600.0 / float(rss.mean())


def main() -> None:
    quick = "--quick" in sys.argv
    duration, interval, rate = (90.0, 5.0, 10.0) if quick else (3600.0, 60.0, 20.0)
    if "--minutes" in sys.argv:  # a shorter full soak (same rate), a sample every 30 s
        duration, interval = 60.0 * float(sys.argv[sys.argv.index("--minutes") + 1]), 30.0
    samples: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # The mock keeps its newest ledger rows, webhook attempts and inbound messages (for reply links) in memory
        # by design (200k / 5M / 500k by default) and spills or forgets past that; small buffers let it reach that
        # steady state during warm-up, so what is left to see is growth that is not retention: a leak.
        request = RunRequest(
            vendor=VENDOR, scenario="webhook-storm", results_root=Path(tmp), show_progress=False,
            overrides={"duration_s": duration, "rate": rate, "drain_s": 2, "customers": 500},
            mock_settings={
                "ledger": {"memory_rows": 1000},
                "webhooks": {"attempts_max_rows": 1000, "replies_max_tracked": 1000},
            },
        )  # fmt: skip
        outcome: list[RunResult | BaseException] = []

        def run() -> None:
            try:
                outcome.append(execute(request))
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        while worker.is_alive():
            sample(samples)
            worker.join(timeout=interval)
        phase = load_phase(Path(tmp), duration)
    if phase is not None:
        samples = {role: [p for p in points if phase[0] <= p[0] <= phase[1]] for role, points in samples.items()}
    failed = outcome[0] if outcome and isinstance(outcome[0], BaseException) else None
    if failed is not None:  # the samples are still the soak's; report them, then fail
        print(f"the soak run failed after sampling: {type(failed).__name__}: {failed}", file=sys.stderr)
    code = report(samples, quick=quick)
    sys.exit(2 if failed is not None else code)


def report(samples: dict[str, list[tuple[float, float]]], *, quick: bool) -> int:
    """Print one line per process and the worst growth last; the exit code (1: the full soak missed the target)."""
    worst = 0.0
    for role, points in sorted(samples.items()):
        if not points:
            continue
        growth = growth_per_hour(points)
        peak_mb = max(p[1] for p in points) / 2**20
        shown = "n/a" if growth is None else f"{growth:+.1f}%/h"
        print(f"{role:7s} samples {len(points):3d}  peak RSS {peak_mb:7.1f} MB  growth after warm-up {shown}")
        if growth is not None:
            worst = max(worst, growth)
    missed = not quick and worst >= TARGET_PER_HOUR
    if missed:
        print(f"target missed: a process grew {worst:.2f}% per hour (target < {TARGET_PER_HOUR:g}%)", file=sys.stderr)
    print(f"worst RSS growth per hour after warm-up (target < {TARGET_PER_HOUR:g}%): {worst:.2f}", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    main()
