"""The whole loop's ceiling against plain Locust (issue 15 §3): how much of the load generator the harness keeps.

Run: ``.venv/bin/python bench/harness_ceiling.py [--seconds 10] [--users 32]``.

Side by side in one run, one after the other (never two loads at once), on this machine:

- **loop**: the sustainable sends/s of the whole scrmbench loop: ``scrmbench run`` of an open-model staircase
  (the ``sends`` calibration probe: template sends through the cloud-api adapter, the recorder and the health
  sampler on, the mock with its limits off), the highest step that stays unsaturated by the harness-bound rules
  with no dropped slot (``harness.run.calibrate``);
- **plain**: Locust's FastHttpUser posting the same template bodies to a mock started the same way, as fast as it
  answers (``bench/_plain_locust.py``), over ``--seconds``.

It also measures what the runner's health sampler costs: the CPU time of one sample (every watched process, the
machine, the mock's stats) once a second, as a share of one core (goal ≤ 2%).

The ratio loop ÷ plain is printed last (goal ≥ 0.8).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.harness_health import HealthThresholds
from bench.loadgen_overhead import start_mock
from harness.health import HealthSampler, http_mock_stats
from harness.run.calibrate import PROBES, Probe, judge_probe, run_staircase

ROOT = Path(__file__).resolve().parent.parent


def plain_locust(url: str, seconds: float, users: int, workdir: Path) -> float:
    args = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "_plain_locust.py"), "--headless",
        "-u", str(users), "-r", str(users), "-t", f"{seconds:g}s", "--host", url, "--only-summary", "--json",
        "--stop-timeout", "5",
    ]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 90, cwd=workdir, check=False)
    try:
        stats = json.loads(done.stdout)
    except ValueError as exc:
        raise SystemExit(f"plain Locust failed: {done.stderr[-1500:]}") from exc
    requests = sum(entry["num_requests"] for entry in stats)
    failures = sum(entry["num_failures"] for entry in stats)
    if failures > 0.01 * max(requests, 1):
        raise SystemExit(f"plain Locust saw {failures} failures of {requests}: the mock refused the bodies")
    spans = [entry["last_request_timestamp"] - entry["start_time"] for entry in stats if entry["num_requests"]]
    return requests / max(max(spans, default=seconds), 1e-9)


def sampler_cost(url: str, workdir: Path, samples: int = 20) -> float:
    """CPU seconds of one sample ÷ the one-second interval: the sampler's share of one core."""
    sampler = HealthSampler(workdir / "sampler", mock_stats=http_mock_stats(url, "mock-admin-token"))
    sampler.watch("bench", os.getpid(), "harness")
    started = time.process_time()
    for _ in range(samples):
        sampler.sample_once()
    used = (time.process_time() - started) / samples
    sampler.stop()
    return used / 1.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=32)
    options = parser.parse_args()
    base = next(p for p in PROBES if p.name == "sends")
    probe = Probe("sends", base.profile, base.operation, start_rate=500, step_rate=500, steps=14, step_s=5)
    with tempfile.TemporaryDirectory(prefix="scrmbench-ceiling-") as tmp:
        workdir = Path(tmp)
        run_dir = run_staircase(probe, workdir / "loop")
        strict = judge_probe(probe, run_dir)
        # Plain Locust runs its one process at 100% of a core: so may the loop here; the schedule must still hold.
        loop = judge_probe(probe, run_dir, HealthThresholds(process_cpu_pct=float("inf"), machine_cpu_busy_pct=101.0))
        for step in loop.steps:
            state = "clean" if step["clean"] else step["why"]
            print(f"loop step {step['level']:6.0f}/s: answered {step['ok_per_s']:7.1f}/s, "
                  f"stack {step['stack_cores']:.2f} cores, {state}")  # fmt: skip
        print(f"loop: holds its schedule up to {loop.capacity_per_s:g} sends/s (ended by {loop.limited_by})")
        print(f"loop: {strict.capacity_per_s:g} sends/s with no harness process at 90% of a core ({strict.limited_by})")
        mock, url = start_mock(workdir)
        try:
            httpx.get(f"{url}/_mock/health", timeout=10).raise_for_status()
            plain = plain_locust(url, options.seconds, options.users, workdir)
            cost = sampler_cost(url, workdir)
        finally:
            mock.stop()
    print(f"plain Locust FastHttpUser: {plain:.0f} sends/s ({options.users} users, {options.seconds:g} s)")
    print(
        f"health sampler: {1000 * cost:.2f} ms CPU per one-second sample = {100 * cost:.2f}% of one core (goal <= 2%)"
    )
    print(f"whole loop sustainable ÷ plain Locust (goal >= 0.8): {loop.capacity_per_s / max(plain, 1e-9):.3f}")


if __name__ == "__main__":
    main()
