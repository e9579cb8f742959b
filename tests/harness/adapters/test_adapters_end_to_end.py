"""A Locust run through each adapter, against real processes on loopback (the mock, and the reference vendor or
a BSP facade), leaves complete Parquet records and a completed manifest; the messages reach the mock's ledger
with their correlation tokens; and the secret the session used appears nowhere in the results folder, the
services' logs or the captured output."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
import yaml

from harness.adapters.registry import load_profile
from harness.recorder import read_requests
from harness.stack.local import local_stack

ROOT = Path(__file__).resolve().parents[3]
VENDORS = ROOT / "vendors"
SENDS = {"send_text", "send_template", "send_media"}

# profile file -> environment variables that must all hold the same secret for the session to work
CASES = {
    "reference-steady.yaml": ["REFERENCE_API_KEY", "WHATSAPP_ACCESS_TOKEN", "SCRMBENCH_MOCK_ACCESS_TOKEN"],
    "cloud-api-mock.yaml": ["WHATSAPP_ACCESS_TOKEN", "SCRMBENCH_MOCK_ACCESS_TOKEN"],
    "generic-http-example.yaml": ["WHATSAPP_ACCESS_TOKEN", "SCRMBENCH_MOCK_ACCESS_TOKEN"],
    "360dialog-facade.yaml": ["D360_API_KEY", "SCRMBENCH_FACADE_API_KEY"],
    "twilio-facade.yaml": ["TWILIO_AUTH_TOKEN", "SCRMBENCH_FACADE_API_KEY"],
    "wati-facade.yaml": ["WATI_API_TOKEN", "SCRMBENCH_FACADE_API_KEY"],
}


def _ledger_tokens(mock_url: str, wanted: set[str], wait_s: float = 20.0) -> set[str]:
    """Correlation ids in the mock's ledger; the reference vendor delivers from a queue, so poll a little."""
    deadline = time.monotonic() + wait_s
    found: set[str] = set()
    while time.monotonic() < deadline:
        answer = httpx.get(
            f"{mock_url}/_mock/ledger",
            params={"format": "ndjson"},
            headers={"Authorization": "Bearer mock-admin-token"},
            timeout=5,
        )
        answer.raise_for_status()
        found = {json.loads(line).get("correlation_id") for line in answer.text.splitlines() if line.strip()}
        if wanted <= found:
            break
        time.sleep(0.2)  # polling a real process's queue, not faking behaviour
    return found


def _files_containing(folder: Path, secret: str) -> list[str]:
    hits = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        if secret.encode() in path.read_bytes():
            hits.append(str(path))
        if path.suffix == ".parquet" and secret in str(pq.read_table(path).to_pylist()):
            hits.append(f"{path} (decoded)")  # compressed pages would hide a raw match
    return hits


@pytest.mark.slow
@pytest.mark.parametrize("file", list(CASES))
def test_a_locust_run_through_each_adapter_is_recorded_completely(file, tmp_path, monkeypatch) -> None:
    secret = "sk-test-" + secrets.token_hex(12)
    for name in CASES[file]:
        monkeypatch.setenv(name, secret)
    profile = load_profile(VENDORS / file)
    results = tmp_path / "results"
    run_dir = results / "run-1"
    with local_stack(profile, tmp_path / "services") as effective:
        effective_file = tmp_path / "effective.yaml"
        effective_file.write_text(yaml.safe_dump(effective.model_dump(mode="json")), encoding="utf-8")
        probe = subprocess.run(
            [sys.executable, "-m", "harness.adapters.locust_probe", str(effective_file), str(run_dir),
             "--requests", "40", "--seconds", "30", "--users", "2"],
            capture_output=True, text=True, timeout=90, cwd=ROOT,
        )  # fmt: skip
        assert probe.returncode == 0, probe.stderr[-2000:]
        assert probe.stdout.strip().splitlines()[-1].startswith("requests=40 ")
        rows = read_requests(run_dir).to_pylist()
        tokens = {row["correlation_id"] for row in rows if row["operation"] in SENDS}
        ledger = _ledger_tokens(str(effective.capabilities.mock_url), tokens)

    assert len(rows) == 40
    assert all(row["outcome"] == "ok" and row["ok"] for row in rows), [r for r in rows if not r["ok"]][:3]
    assert {row["worker"] for row in rows} == {"probe"} and {row["vendor"] for row in rows} == {profile.name}
    assert all(row["started_at"] <= row["ended_at"] and row["latency_ms"] >= 0 for row in rows)
    sends = [row for row in rows if row["operation"] in SENDS]
    assert sends and all(row["vendor_message_id"] and row["correlation_id"] for row in sends)
    assert tokens <= ledger  # every acknowledged send reached WhatsApp carrying its token
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["ended_at"] >= manifest["started_at"]
    assert manifest["vendor"]["name"] == profile.name

    assert _files_containing(results, secret) == []
    assert _files_containing(tmp_path / "services", secret) == []  # the mock's and vendor's own logs
    assert secret not in probe.stdout and secret not in probe.stderr


@pytest.mark.slow
@pytest.mark.parametrize("file", sorted(path.name for path in VENDORS.glob("*.yaml")))
def test_vendors_check_passes_for_every_shipped_profile_against_its_local_stack(file, capsys, request) -> None:
    from harness.cli import main

    if yaml.safe_load((VENDORS / file).read_text()).get("launch", {}).get("kind") == "container":
        request.getfixturevalue("docker_client")  # a Docker engine (started if possible; skipped with the reason)

    assert main(["vendors", "check", str(VENDORS / file), "--launch"]) == 0
    out = capsys.readouterr().out
    assert "contract check passed" in out
    assert "failed" not in out.split("contract check passed")[0].lower()
