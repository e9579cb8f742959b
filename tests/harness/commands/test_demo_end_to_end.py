"""The headline promise, for real: the quick demo from the command line ranks the reference vendors as designed.

``scrmbench demo --quick`` calibrates this machine (the test's own empty cache), plans its trials by it, runs
every candidate × scenario on loopback, and must end with exit 0: steady PASS; degrading FAIL led by reply latency
at peak; lossy FAIL led by lost acknowledged messages (the demo checks its own call and exits 1 otherwise).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_quick_demo_ranks_the_reference_vendors_as_designed(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "harness.cli", "demo", "--quick", "--out", str(tmp_path)]
    # Its own calibration cache: the session's (conftest.py) stays uncalibrated for the other real-run tests, whose
    # capacity checks must not depend on what the machine was doing while this test calibrated.
    env = {**os.environ, "SCRMBENCH_CACHE_DIR": str(tmp_path / "calibration")}
    done = subprocess.run(args, capture_output=True, text=True, timeout=1400, cwd=ROOT, env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "scorecard:" in done.stdout
    card = json.loads(next(tmp_path.glob("demo-*/scorecard.json")).read_text())
    verdicts = {vendor["name"]: vendor["verdict"] for vendor in card["vendors"]}
    assert verdicts == {"steady": "PASS", "degrading": "FAIL", "lossy": "FAIL"}, output[-4000:]
    runs = sorted(tmp_path.glob("demo-*/*/*/summary.json"))
    assert len(runs) >= 9
    for path in runs:  # every scored trial watched the harness, and none is left harness-bound
        if "harness-bound" in str(path):
            continue
        harness = json.loads(path.read_text())["harness"]
        assert harness["measured"] and not harness["bound"], (path, harness)
