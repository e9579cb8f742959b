"""Plain ``locust -f locustfile.py``: headless and with the web UI, recorded the same way as ``scrmbench run``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from ground.net import free_port
from ground.records import RunManifest
from harness.recorder import read_requests

ROOT = Path(__file__).resolve().parents[3]
PARAMS = {"recipients": 30, "rate": 10, "live_share": 0.0, "drain_s": 0, "pool_size": 20}


@pytest.fixture
def profile(tmp_path: Path, mock_server: Any, reference_vendor: Any) -> Path:
    vendor = reference_vendor("steady", whatsapp_url=mock_server.base_url)
    path = tmp_path / "vendor.yaml"
    data = yaml.safe_load((ROOT / "vendors" / "reference-steady.yaml").read_text())
    data.update({"base_url": vendor.base_url, "launch": {"kind": "none"}})
    data["capabilities"]["mock_url"] = mock_server.base_url
    path.write_text(yaml.safe_dump(data))
    return path


def locust(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "locustfile.py"), *args]
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def common(profile: Path, results: Path) -> list[str]:
    mock_url = yaml.safe_load(profile.read_text())["capabilities"]["mock_url"]
    return ["--scenario", "broadcast", "--scenario-params", json.dumps(PARAMS), "--vendor", str(profile),
            "--mock-url", mock_url, "--results-dir", str(results), "--seed", "4"]  # fmt: skip


@pytest.mark.slow
def test_headless_locust_run_writes_manifest_and_records(
    tmp_path: Path, profile: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    results = tmp_path / "results" / "plain-run"
    process = locust(["--headless", "--only-summary", *common(profile, results)], tmp_path)
    processes.append(process)
    assert process.wait(timeout=120) in (0, 1)
    manifest = RunManifest.model_validate_json((results / "manifest.json").read_text())
    assert manifest.scenario == "broadcast" and manifest.scenario_params["recipients"] == 30
    requests = read_requests(results).to_pandas()
    assert len(requests) == 30
    assert requests["scheduled_at"].notna().all() and (requests["worker"] == "local").all()
    assert json.loads((results / "live.json").read_text())["final"] is True


@pytest.mark.slow
def test_web_ui_shows_the_scenario_options_and_a_swarm_records_the_same_way(
    tmp_path: Path, profile: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    results = tmp_path / "results" / "ui-run"
    port = free_port()
    processes.append(locust(["--web-host", "127.0.0.1", "--web-port", str(port), *common(profile, results)], tmp_path))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    page = None
    while time.monotonic() < deadline:
        try:
            page = httpx.get(base + "/", timeout=2)
            break
        except httpx.HTTPError:
            time.sleep(0.2)  # waiting for a real process to listen
    assert page is not None and page.status_code == 200
    assert "scenario" in page.text and "webhook-storm" in page.text  # the option and its choices
    started = httpx.post(base + "/swarm", data={"user_count": 1, "spawn_rate": 1, "scenario": "broadcast"}, timeout=10)
    assert started.status_code == 200
    while time.monotonic() < deadline and len(read_requests(results)) < 30:
        time.sleep(0.5)  # polling the records a real run writes
    requests = read_requests(results).to_pandas()
    assert len(requests) == 30
    assert (requests["scenario"] == "broadcast").all()
