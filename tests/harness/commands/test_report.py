"""``scrmbench report`` and ``scrmbench doctor`` end to end through the CLI, and the demo's own checks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from analysis.scorecard.browser import find_chromium
from harness import bakeoff, doctor
from harness.cli import main
from tests.fixtures.common import require_system


def test_report_writes_the_scorecard_and_prints_the_verdicts(bakeoff_runs: list[Path], tmp_path: Path, capsys) -> None:
    out = tmp_path / "card.html"
    assert main(["report", *map(str, bakeoff_runs), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'class="badge">PASS<' in page
    printed = capsys.readouterr().out
    assert "steady" in printed and "PASS" in printed and str(out) in printed


def test_report_default_path_and_other_formats(bakeoff_runs: list[Path]) -> None:
    assert main(["report", str(bakeoff_runs[0]), "--format", "md"]) == 0
    assert (bakeoff_runs[0] / "scorecard.md").read_text(encoding="utf-8").startswith("# SCRM vendor trial")
    assert main(["report", *map(str, bakeoff_runs), "--format", "csv"]) == 0
    rows = list(csv.DictReader((bakeoff_runs[0].parent / "scorecard.csv").open(encoding="utf-8")))
    assert {r["vendor"] for r in rows} == {"steady", "lossy", "degrading"}
    assert (
        main(["report", *map(str, bakeoff_runs), "--format", "json", "-o", str(bakeoff_runs[0].parent / "s.json")]) == 0
    )
    assert json.loads((bakeoff_runs[0].parent / "s.json").read_text())["vendors"][0]["name"] == "steady"


def test_report_rescores_against_another_sla(bakeoff_runs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "card.json"
    assert main(["report", str(bakeoff_runs[1]), "--sla", "enterprise", "--format", "json", "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["sla_name"] == "enterprise"
    assert data["vendors"][0]["verdict"] == "FAIL"  # 37 lost messages fail any SLA


def test_report_bad_input_is_exit_2_without_traceback(tmp_path: Path, capsys) -> None:
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert main(["report", str(tmp_path), "--format", "docx"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Fix:" in err


@pytest.mark.browser
def test_report_pdf(bakeoff_runs: list[Path], tmp_path: Path) -> None:
    require_system("chromium", find_chromium() is not None, "--pdf prints the scorecard with headless Chromium")
    out = tmp_path / "card.html"
    assert main(["report", *map(str, bakeoff_runs), "-o", str(out), "--pdf"]) == 0
    assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")


def test_doctor_checks_report_findings_and_fixes(tmp_path: Path) -> None:
    assert doctor.check_python((3, 10)).status == "fail"
    assert doctor.check_python((3, 12)).status == "ok"

    def version_of(name: str) -> str:
        if name == "plotly":
            raise doctor.importlib.metadata.PackageNotFoundError(name)
        return "1.0"

    missing = doctor.check_packages(("httpx", "plotly"), version_of)
    assert missing.status == "fail" and "plotly" in missing.found and "pip install" in missing.fix

    def no_engine() -> None:
        raise ConnectionError("no socket")

    assert doctor.check_docker(no_engine).status == "warn"
    assert doctor.check_chromium(lambda: None).fix.startswith("only `report --pdf`")
    busy = doctor.check_ports({8900: "mock"}, bindable=lambda port: False)
    assert busy.status == "warn" and "8900 (mock)" in busy.found
    assert doctor.check_loopback().status == "ok"
    assert doctor.check_results(tmp_path).status == "ok"
    assert doctor.check_results(tmp_path, min_free_bytes=1 << 60).status == "warn"


def test_doctor_command_prints_every_check(capsys) -> None:
    code = main(["doctor", "--results", "."])
    printed = capsys.readouterr().out
    assert code in (0, 3)
    for name in ("Python", "packages", "docker engine", "chromium", "free ports", "loopback", "results folder"):
        assert name in printed


def test_demo_judges_its_own_call(tmp_path: Path) -> None:
    result = bakeoff.DemoResult(tmp_path, "ok")
    assert not result.right_call and result.call_problems() == ["nothing was scored"]
    result.verdicts = {
        "steady": ("PASS", 95.0, ""),
        "lossy": ("FAIL", 40.0, "failover: lost messages was 3, target ≤ 0; 3 lost of 900 acknowledged"),
    }
    result.failed = {"lossy": [("failover", "lost_messages")], "degrading": [("peak", "reply_latency_ms")]}
    assert result.call_problems() == ["degrading is missing from the scorecard"]
    result.verdicts["degrading"] = ("FAIL", 57.0, "peak: p95 reply latency was 7.66 s, target ≤ 2 s")
    assert result.right_call
    # The promise is a FAIL: neither a CONDITIONAL, nor an undecided or cut-short run, is the designed call.
    for verdict in ("CONDITIONAL", "INCONCLUSIVE", "INCOMPLETE", "PASS"):
        result.verdicts["degrading"] = (verdict, 80.0, "inconclusive: peak needs more samples")
        assert result.call_problems() == [
            f"degrading is {verdict}, designed to FAIL (inconclusive: peak needs more samples)"
        ]
    result.verdicts["steady"] = ("INCONCLUSIVE", 100.0, "inconclusive: media-burst needs more samples")
    result.verdicts["degrading"] = ("FAIL", 57.0, "failover: sustained recovery time was 40 s")
    result.failed["degrading"] = [("failover", "sustained_recovery_s")]
    assert result.call_problems() == [
        "steady is INCONCLUSIVE, designed to PASS (inconclusive: media-burst needs more samples)",
        "degrading failed, but not on reply_latency_ms in peak, its designed weakness",
    ]
    result.verdicts["steady"] = ("PASS", 100.0, "")
    result.failed["degrading"] = [("failover", "sustained_recovery_s"), ("peak", "reply_latency_ms")]
    assert result.call_problems() == ["degrading's first reason is not its designed cause (reply_latency_ms in peak)"]


def test_demo_quick_sizes_decide_every_criterion_for_a_clean_vendor() -> None:
    from analysis.stats import wilson_interval
    from harness.bakeoff_jobs import SIZES
    from scenarios import registry

    # A vendor without errors must get a decided error rate (≤ 1%) from media-burst: the Wilson upper bound on
    # 0 failures of n requests must be under the target, so the quick demo cannot leave steady INCONCLUSIVE there.
    for quick in (True, False):
        params = SIZES[quick]["media-burst"]
        plan = registry.get("media-burst").plan({**params})
        target = next(c.target for c in plan.criteria if c.metric == "error_rate")
        requests = int(params["uploads"]) * 2  # an upload and a text send per slot (text_per_upload defaults to 1)
        bounds = wilson_interval(0, requests)
        assert bounds is not None and bounds[1] < target, (quick, requests, bounds)


def test_find_run_folder(tmp_path: Path) -> None:
    assert bakeoff.find_run_folder(tmp_path) is None
    (tmp_path / "run-1").mkdir()
    (tmp_path / "run-1" / "manifest.json").write_text("{}")
    assert bakeoff.find_run_folder(tmp_path) == tmp_path / "run-1"


@pytest.mark.slow
def test_demo_preflight_starts_the_mock_and_sees_a_message_in_its_ledger(tmp_path: Path) -> None:
    lines: list[str] = []
    check = bakeoff.prove_mock(tmp_path, lines.append)
    assert "ledger holds it" in check
    assert lines[0].startswith("starting the mock")


def test_demo_plan_covers_every_vendor_and_scenario(tmp_path: Path) -> None:
    from harness.bakeoff_jobs import plan_jobs

    jobs = plan_jobs(tmp_path, quick=True)
    assert {(j.vendor, j.scenario) for j in jobs} == {
        (v, s) for v in ("steady", "degrading", "lossy") for s in ("peak", "media-burst", "failover")
    }
    steady_failover = next(j for j in jobs if (j.vendor, j.scenario) == ("steady", "failover"))
    assert steady_failover.profile is not None
    profile = yaml.safe_load(steady_failover.profile.read_text())
    assert profile["name"] == "steady" and profile["launch"]["kind"] == "ha-pair"  # deployed as an HA pair
    assert jobs[0].scenario == "failover"  # longest first
    failover = jobs[0].params
    # Sustained recovery needs its 10 s window and 60 s confirmation after the restore, inside the run.
    assert failover["kill_at_s"] + 70 <= failover["duration_s"]  # a fast standby is confirmed in the run
    args = jobs[0].args()
    assert "--sla" not in args and "--param" in args  # the scenario's own criteria unless --sla is given
    strict = plan_jobs(tmp_path, quick=True, sla="standard")[0].args()
    assert strict[strict.index("--sla") + 1] == "standard"


def test_jobs_run_bounded_and_report_problems(tmp_path: Path) -> None:
    import sys

    from harness.bakeoff_jobs import Job, run_jobs

    class Script(Job):
        def __init__(self, name: str, code: str, budget_s: float) -> None:
            super().__init__("v", name, {}, tmp_path / name, budget_s)
            self.code = code

        def args(self) -> list[str]:
            return [sys.executable, "-c", self.code]

    jobs = [
        Script("met", "print('ok')", 60),
        Script("missed", "import sys; sys.exit(1)", 60),
        Script("broken", "import sys; print('no vendor profile'); sys.exit(3)", 60),
        Script("hangs", "import time; time.sleep(600)", 1),
    ]
    lines: list[str] = []
    ticks: list[tuple[int, int, int]] = []
    done = {
        j.scenario: j
        for j in run_jobs(
            jobs,
            max_parallel=2,
            progress=lines.append,
            poll_s=0.1,
            tick=lambda running, waiting, finished: ticks.append((len(running), waiting, finished)),
        )
    }
    assert done["met"].problem == "" and done["missed"].problem == ""  # SLA met or missed: both results
    assert done["broken"].problem.startswith("exit 3: no vendor profile")
    assert done["hangs"].problem == "stopped after 1 s, its time budget"
    assert done["hangs"].process.returncode != 0
    assert sum(line.startswith("started") for line in lines) == 4
    assert ticks[0] == (2, 2, 0) and all(running <= 2 for running, _, _ in ticks)  # never more than max_parallel

    from harness.commands.report import running_table

    table = running_table([done["met"]], 1, 3)
    assert table.title == "running 1, waiting 1, done 3" and table.row_count == 1
