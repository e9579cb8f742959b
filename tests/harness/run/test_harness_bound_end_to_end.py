"""The proof with real processes: a saturated machine is never reported as the vendor's failure.

A CPU hog (one busy-loop process per core, each bounded to a few minutes and stopped by the fixture) runs beside
the harness. The steady reference vendor is then INCONCLUSIVE with the harness-bound reason (exit 5), never FAIL;
the same run without the hog PASSes; the lossy vendor under the same hog still FAILs on lost acknowledged messages,
a counted fact that saturation cannot fake. Loopback only; every run is a quick broadcast (300 sends at 30/s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ground.errors import EXIT_INCONCLUSIVE, EXIT_OK, EXIT_SLA_FAILED

ROOT = Path(__file__).resolve().parents[3]
HOG_LIMIT_S = 240  # each hog process ends by itself after this, whatever happens to the test
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def cpu_hog() -> Iterator[list[subprocess.Popen[bytes]]]:
    code = f"import time\nend = time.monotonic() + {HOG_LIMIT_S}\nwhile time.monotonic() < end: pass\n"
    hogs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(os.cpu_count() or 1)]
    try:
        yield hogs
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait(timeout=10)


def _run(vendor: str, out: Path) -> tuple[int, dict[str, Any], str]:
    args = [sys.executable, "-m", "harness.cli", "run", "--vendor", str(ROOT / "vendors" / f"{vendor}.yaml")]
    args += ["--scenario", "broadcast", "--quick", "--seed", "7", "--no-progress", "--out", str(out)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=400, cwd=ROOT)
    summaries = sorted(out.glob("*/summary.json"))
    assert summaries, f"no summary written (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.returncode, json.loads(summaries[-1].read_text()), done.stdout + done.stderr


def test_steady_vendor_passes_on_a_quiet_machine(tmp_path: Path) -> None:
    code, summary, output = _run("reference-steady", tmp_path)
    assert summary["harness"]["measured"] is True
    assert summary["harness"]["bound"] is False, summary["harness"]
    assert summary["sla"]["verdict"] == "PASS", summary["sla"]["reasons"]
    assert code == EXIT_OK, output[-2000:]


def test_steady_vendor_under_a_cpu_hog_is_inconclusive_never_fail(
    tmp_path: Path, cpu_hog: list[subprocess.Popen[bytes]]
) -> None:
    code, summary, output = _run("reference-steady", tmp_path)
    harness = summary["harness"]
    assert harness["bound"] is True and harness["saturated_share"] > 0.05, harness
    assert harness["reason"].startswith("harness-bound"), harness
    sla = summary["sla"]
    assert sla["verdict"] == "INCONCLUSIVE", sla["reasons"]
    assert sla["reasons"][0].startswith("harness-bound"), sla["reasons"]
    assert not [c for c in sla["criteria"] if c["status"] == "fail"], "a saturated run failed the vendor"
    assert code == EXIT_INCONCLUSIVE, output[-2000:]


def test_lossy_vendor_under_a_cpu_hog_still_fails_on_lost_messages(
    tmp_path: Path, cpu_hog: list[subprocess.Popen[bytes]]
) -> None:
    code, summary, output = _run("reference-lossy", tmp_path)
    assert summary["harness"]["bound"] is True, summary["harness"]
    sla = summary["sla"]
    assert sla["verdict"] == "FAIL", sla["reasons"]
    failed = {c["metric"] for c in sla["criteria"] if c["status"] == "fail"}
    assert failed == {"lost_messages"} or failed <= {"lost_messages", "duplicated_messages", "duplicate_rate"}
    assert "lost_messages" in failed
    assert code == EXIT_SLA_FAILED, output[-2000:]
