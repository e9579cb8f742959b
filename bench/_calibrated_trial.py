"""One real run through the harness against a calibrated reference vendor, and the vendor's own timing log.

Used by ``bench/measurement_accuracy.py`` and ``tests/harness/run/test_runner_honesty.py``; the comparison itself
(``join``, ``compare``, ``injection_checks``) is in ``mocks.vendors.timing_check``. This half drives the runner,
so it lives here, above the harness, not in the mock (which must not import the harness's upper floors).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.adapters.registry import load_profile
from harness.config.profiles import LaunchConfig
from harness.recorder import read_requests
from harness.run.runner import RunRequest, execute
from harness.stack.services import start_services
from mocks.vendors.config import build_settings
from mocks.vendors.settings import LatencySettings, VendorSettings
from mocks.vendors.timing_check import fetch_timings


@dataclass(frozen=True)
class Trial:
    """One real run against a reference vendor: the harness's records and the vendor's own rows."""

    run_dir: Path
    records: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    latency: LatencySettings | None  # what the vendor's profile told it to inject


def calibrated_trial(
    vendor_file: Path, root: Path, *, scenario: str, overrides: Mapping[str, Any], seed: int = 0
) -> Trial:
    """Run ``scenario`` through the runner against the reference vendor ``vendor_file`` launches, then read its log.

    The mock and vendor start exactly as ``scrmbench run`` starts them (``start_services``), but outside the run,
    which sees them as an already running vendor (``launch: none``): they are still up after the run, so the
    vendor's timing log can be read before they stop.
    """
    profile = load_profile(vendor_file)
    if profile.launch.kind != "reference" or not profile.launch.profile:
        raise ValueError(f"{vendor_file} does not launch a single reference vendor (launch.kind: reference)")
    latency = build_settings(profile.launch.profile)[0].api_latency
    stack_dir = root / "stack"
    (stack_dir / "logs").mkdir(parents=True, exist_ok=True)
    services = start_services(profile, stack_dir, source=str(vendor_file), seed=seed)
    try:
        running = services.profile.model_copy(update={"launch": LaunchConfig()})
        running_file = stack_dir / "running-vendor.yaml"
        running_file.write_text(yaml.safe_dump(running.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
        request = RunRequest(
            vendor=running_file,
            scenario=scenario,
            overrides=dict(overrides),
            results_root=root,
            show_progress=False,
            seed=seed,
        )
        run_dir = execute(request).run_dir
        records = read_requests(run_dir).to_pylist()
        api_key = VendorSettings().api_key.get_secret_value()  # what the launched vendor read: env or dev default
        rows = fetch_timings(running.base_url, api_key)
    finally:
        services.close()
    return Trial(run_dir, records, rows, latency)


if __name__ == "__main__":
    print("bench/_calibrated_trial.py holds a helper for measurement_accuracy.py; nothing to measure here")
