"""The CI gate: ``pytest --scrmbench-sla`` and the ``scrmbench_run`` fixture, with failing criteria in the message."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.pytest_plugin import SlaResult
from tests.fixtures.scorecard import vendor_run

REPO = Path(__file__).resolve().parents[2]


def test_result_lists_the_failing_criteria(results_dir: Path) -> None:
    run = vendor_run(results_dir / "lossy", vendor="lossy", lost=37)
    result = SlaResult.from_summary(json.loads((run / "summary.json").read_text()), run)
    assert not result.passed and result.verdict == "FAIL"
    reason = "lost messages was 37, target ≤ 0; 37 lost of 1160 acknowledged"  # the analysis's own words
    assert result.failing == [f"fail (critical): {reason}"]
    shown = repr(result)
    assert shown.startswith("SlaResult(failover against lossy: FAIL")
    assert reason in shown


def test_an_unscored_run_never_passes(tmp_path: Path) -> None:
    assert not SlaResult.from_summary({"run": {"scenario": "peak", "vendor": "x"}}, tmp_path).passed


def test_plugin_is_registered_by_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert "--scrmbench-sla" in done.stdout


@pytest.mark.slow
def test_a_failing_gate_names_the_criterion(tmp_path: Path) -> None:
    """A real quick run against the steady reference vendor, scored against an SLA no system can meet."""
    (tmp_path / "impossible.yaml").write_text(
        textwrap.dedent("""\
        name: impossible
        criteria:
          - id: api-p95
            title: p95 API latency
            metric: latency_ms
            aggregation: p95
            target: 0.001
            critical: true
            weight: 1
            min_samples: 1
        """),
        encoding="utf-8",
    )
    (tmp_path / "test_gate.py").write_text(
        textwrap.dedent(f"""\
        def test_media_meets_sla(scrmbench_run):
            result = scrmbench_run("media-burst", vendor={str(REPO / "vendors" / "reference-steady.yaml")!r},
                                   uploads=12, drain_s=1)
            assert result.passed
        """),
        encoding="utf-8",
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "--scrmbench-sla",
            str(tmp_path / "impossible.yaml"),
            "--scrmbench-results",
            str(tmp_path / "results"),
            str(tmp_path / "test_gate.py"),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    out = done.stdout
    assert done.returncode == 1, out[-3000:]
    assert "media-burst against reference-steady: FAIL" in out
    assert "fail (critical): p95 API latency" in out  # the failing criterion, in the assertion message
    assert "scrmbench SLA runs" in out  # the terminal summary lists the run and its folder
    assert list((tmp_path / "results").glob("*/summary.json"))
