"""Open-model accuracy: achieved ÷ target arrival rate of one Locust worker, at rising target rates.

One local Locust runner sends template messages straight to the mock WhatsApp API (cloud-api adapter, limits
off) on the open model's schedule. For each target rate: achieved = starts ÷ the span they actually took (a
generator that falls behind stretches it), times the share of slots not dropped; start lateness is printed
too. Prints one line per rate, then the highest rate whose ratio is ≥ 0.95 and that ratio LAST.

    .venv/bin/python bench/open_model_accuracy.py [--quick]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import yaml

from ground.net import free_port
from ground.services import ServiceProcess
from harness.recorder import read_requests
from harness.run.runner import RunRequest, execute


def main() -> None:
    quick = "--quick" in sys.argv
    rates = [50, 100, 200] if quick else [100, 400, 1200, 2400, 3200, 4800]
    seconds = 4 if quick else 8
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        (root / "mock.yaml").write_text(yaml.safe_dump({"limits": {"enabled": False}}))
        mock = ServiceProcess.python_module(
            "mock",
            ["mock", "serve", "--port", str(port), "--config", str(root / "mock.yaml")],
            health_url=f"{base}/_mock/health",
        )
        profile = {
            "name": "mock-direct", "adapter": "cloud-api", "base_url": base,
            "auth": {"scheme": "bearer", "token_env": "MOCK_ACCESS_TOKEN", "dev_default": "mock-access-token"},
            "phone_numbers": [{"number": "+15550000001", "id": "100000000000001"}],
            "capabilities": {"operations": ["send_template", "health"], "can_point_at_mock": True, "mock_url": base},
        }  # fmt: skip
        (root / "vendor.yaml").write_text(yaml.safe_dump(profile))
        best: tuple[float, float, float] | None = None
        with mock:
            for rate in rates:
                request = RunRequest(
                    vendor=root / "vendor.yaml", scenario="broadcast", results_root=root / "results",
                    overrides={"recipients": int(rate * seconds), "rate": rate, "live_share": 0.0,
                               "drain_s": 0, "pool_size": 400},
                    show_progress=False,
                    over_capacity=True,  # the rates are meant to pass the calibrated capacity
                )  # fmt: skip
                requests = read_requests(execute(request).run_dir).to_pandas()
                started = requests[requests["outcome"] != "dropped"]
                dropped = len(requests) - len(started)
                # Achieved arrival rate: starts over the span they actually took. A generator that falls behind
                # stretches the span (ratio < 1); dropped slots count as not achieved.
                span = float(started["started_at"].max() - started["started_at"].min())
                achieved = (len(started) - 1) / span if span > 0 else 0.0
                ratio = min(achieved / rate, 1.0) * len(started) / len(requests)
                late_ms = 1000 * (started["started_at"] - started["scheduled_at"])
                print(
                    f"target {rate}/s: achieved {achieved:.1f}/s over {len(started)} starts (dropped {dropped}), "
                    f"start lateness p50 {late_ms.quantile(0.5):.1f} ms p99 {late_ms.quantile(0.99):.1f} ms, "
                    f"ratio {ratio:.3f}"
                )
                if ratio >= 0.95:
                    best = (float(rate), ratio, float(late_ms.quantile(0.99)))
        if best is None:
            print("no rate reached 0.95 of its target; achieved/target 0")
            return
        print(f"highest rate one worker sustains: {best[0]:.0f}/s (goal >= 2000/s), start lateness p99 there "
              f"{best[2]:.1f} ms (goal <= 20 ms); achieved/target {best[1]:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
