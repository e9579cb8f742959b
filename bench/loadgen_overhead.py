"""Cost of the recorder on the load generator (issue 5, "Recorder ... Overhead").

Run: ``.venv/bin/python bench/loadgen_overhead.py [--seconds 4] [--rounds 3] [--users 8]``.

One mock process (limiters off, so it never sheds) serves every round. Each round runs the same Locust user task
twice, in separate processes (``harness.adapters.locust_probe``): a text send through the ``cloud-api`` adapter and
the shared ``PooledExecutor`` the load users use, once with the recorder attached to ``events.request`` (rows to
Parquet shards flushed every second) and once without. The order alternates between rounds so drift on the noisy
machine hits both sides alike, and the mock's ledger is reset before each run. Each round gives one paired ratio
(with ÷ without, run back to back); the result is the median of those ratios, printed last (goal ≥ 0.9, issue
21). Absolute requests/s vary with the machine; the ratio is the result. Every recorded run is also checked to have
written exactly one row per request."""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ground.net import free_port
from ground.services import ServiceProcess
from harness.adapters.registry import load_profile
from harness.recorder import read_requests

ROOT = Path(__file__).resolve().parent.parent


def start_mock(workdir: Path) -> tuple[ServiceProcess, str]:
    port = free_port()
    config = workdir / "mock.yaml"
    config.write_text(yaml.safe_dump({"port": port, "limits": {"enabled": False}}), encoding="utf-8")
    url = f"http://127.0.0.1:{port}"
    service = ServiceProcess.python_module(
        "mock", ["mock", "serve", "--config", str(config)], health_url=f"{url}/_mock/health",
        log_path=workdir / "mock.log",
    )  # fmt: skip
    return service.start(), url


def reset_mock(url: str) -> None:
    answer = httpx.post(f"{url}/_mock/reset", headers={"Authorization": "Bearer mock-admin-token"}, timeout=30)
    answer.raise_for_status()


def probe(profile_file: Path, run_dir: Path, seconds: float, users: int, recorder: bool) -> tuple[float, float]:
    """(requests/s, CPU microseconds per request of the Locust process)."""
    args = [
        sys.executable, "-m", "harness.adapters.locust_probe", str(profile_file), str(run_dir),
        "--requests", "100000000", "--seconds", str(seconds), "--users", str(users), "--operations", "send_text",
    ]  # fmt: skip
    if not recorder:
        args.append("--no-recorder")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, cwd=ROOT, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"probe failed: {done.stderr[-1500:]}")
    last = done.stdout.strip().splitlines()[-1]
    fields = dict(item.split("=", 1) for item in last.split())
    requests = int(fields["requests"])
    if recorder:
        recorded = read_requests(run_dir).num_rows
        if recorded != requests:
            raise SystemExit(f"the recorder lost rows: {recorded} recorded of {requests} sent")
    return float(fields["rps"]), 1e6 * cpu_s / max(requests, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--users", type=int, default=8)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scrmbench-bench-") as tmp:
        workdir = Path(tmp)
        mock, url = start_mock(workdir)
        try:
            profile = load_profile(ROOT / "vendors" / "cloud-api-mock.yaml")
            profile_file = workdir / "profile.yaml"
            effective = profile.model_copy(update={"base_url": url})
            profile_file.write_text(yaml.safe_dump(effective.model_dump(mode="json")), encoding="utf-8")
            with_recorder: list[float] = []
            without: list[float] = []
            ratios: list[float] = []
            cpu_with: list[float] = []
            cpu_without: list[float] = []
            for index in range(options.rounds):
                order = (True, False) if index % 2 == 0 else (False, True)
                for recorder in order:
                    run_dir = workdir / f"run-{index}-{'rec' if recorder else 'bare'}"
                    reset_mock(url)  # an empty ledger each time, so a growing mock never favours one side
                    rps, cpu_us = probe(profile_file, run_dir, options.seconds, options.users, recorder)
                    (with_recorder if recorder else without).append(rps)
                    (cpu_with if recorder else cpu_without).append(cpu_us)
                    label = "with" if recorder else "without"
                    print(f"round {index + 1}: {label} recorder {rps:8.1f} requests/s, {cpu_us:6.0f} CPU us/request")
                ratios.append(with_recorder[-1] / without[-1])
                print(f"round {index + 1}: with ÷ without {ratios[-1]:.3f}")
        finally:
            mock.stop()
    # CPU per request (process start included) is steadier than requests/s on a shared machine; shown as context.
    print(
        f"median CPU per request, process start-up included: with recorder {statistics.median(cpu_with):.0f} us, "
        f"without {statistics.median(cpu_without):.0f} us"
    )
    print(
        f"median requests/s with recorder {statistics.median(with_recorder):.1f}, "
        f"without {statistics.median(without):.1f}; median of paired ratios, with ÷ without (goal >= 0.9): "
        f"{statistics.median(ratios):.3f}"
    )


if __name__ == "__main__":
    main()
