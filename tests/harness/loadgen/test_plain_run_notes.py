"""A plain ``locust -f locustfile.py`` run says what of the scenario it did not do: in the manifest's notes and
as a warning at start (fault schedule, setup steps, other phases, ledger export)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ground.records import RunManifest
from harness.loadgen.plain_run import not_run_here
from scenarios.registry import get

ROOT = Path(__file__).resolve().parents[3]


def test_each_skipped_part_is_named_for_the_scenario_at_hand() -> None:
    failover = not_run_here(get("failover").plan(quick=True), 0)
    assert any("fault schedule" in n and "failover at" in n for n in failover)
    assert not any("setup steps" in n or "phase(s)" in n for n in failover)
    data_volume = get("data-volume").plan(quick=True)
    notes = not_run_here(data_volume, 0)
    assert any("setup steps (vendor-seed" in n for n in notes)
    others = [p.name for p in data_volume.phases[1:]]
    assert any(f"phase(s) {', '.join(others)}" in n and f"only phase {data_volume.phases[0].name}" in n for n in notes)
    assert not any("fault schedule" in n for n in notes)
    broadcast = not_run_here(get("broadcast").plan(quick=True), 0)
    assert len(broadcast) == 1 and "ledger export" in broadcast[0]  # always: only `scrmbench run` exports it
    assert all("scrmbench run" in n for n in (*failover, *notes, *broadcast))


@pytest.fixture
def profile(tmp_path: Path, mock_server: Any, reference_vendor: Any) -> Path:
    vendor = reference_vendor("steady", whatsapp_url=mock_server.base_url)
    data = yaml.safe_load((ROOT / "vendors" / "reference-steady.yaml").read_text())
    data.update({"base_url": vendor.base_url, "launch": {"kind": "none"}})
    data["capabilities"]["mock_url"] = mock_server.base_url
    path = tmp_path / "vendor.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_plain_failover_run_warns_and_notes_that_its_fault_was_not_injected(tmp_path: Path, profile: Path) -> None:
    results = tmp_path / "results" / "plain"
    params = {"duration_s": 5, "rate": 4, "kill_at_s": 1, "down_s": 1, "drain_s": 0}
    mock_url = yaml.safe_load(profile.read_text())["capabilities"]["mock_url"]
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "locustfile.py"), "--headless", "--only-summary",
               "--scenario", "failover", "--scenario-params", json.dumps(params), "--vendor", str(profile),
               "--mock-url", mock_url, "--results-dir", str(results), "--seed", "3"]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=150, check=False)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    manifest = RunManifest.model_validate_json((results / "manifest.json").read_text())
    skipped = [n for n in manifest.notes if n.startswith("not run:")]
    assert any("fault schedule (process-kill at 1 s" in n or "fault schedule (failover at 1 s" in n for n in skipped)
    assert any("ledger export" in n for n in skipped)
    for note in skipped:  # each one also warned at start
        assert f"plain locust run: {note}" in done.stderr
    assert not (results / "faults.jsonl").exists() or "inject" not in (results / "faults.jsonl").read_text()
