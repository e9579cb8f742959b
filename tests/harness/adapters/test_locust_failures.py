"""Under Locust, failures are outcomes and records too: a refused connection is a failed transport row, a send
that times out after connecting is an indeterminate timeout row, and a Graph 4xx error is a failed http row
with its code; the session itself never crashes."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest
import yaml

from ground.net import free_port
from harness.recorder import read_requests
from tests.fixtures.facades import open_limits_config

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


@pytest.fixture
def mock_config():
    return open_limits_config()


def _probe(tmp_path: Path, base_url: str, timeout_s: float = 10.0, requests: int = 12) -> list[dict]:
    data = yaml.safe_load((ROOT / "vendors" / "cloud-api-mock.yaml").read_text())
    data["base_url"] = base_url
    data["timeouts"] = {"default": timeout_s}
    tmp_path.mkdir(parents=True, exist_ok=True)
    profile = tmp_path / "profile.yaml"
    profile.write_text(yaml.safe_dump(data))
    run_dir = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "harness.adapters.locust_probe", str(profile), str(run_dir),
         "--requests", str(requests), "--seconds", "30", "--users", "2", "--operations", "send_text"],
        capture_output=True, text=True, timeout=90, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return read_requests(run_dir).to_pylist()


def test_a_refused_connection_is_a_failed_transport_row(tmp_path: Path) -> None:
    rows = _probe(tmp_path, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    assert len(rows) == 12
    assert Counter((row["outcome"], row["error_kind"], row["status"]) for row in rows) == {
        ("failed", "transport", 0): 12
    }
    assert all(row["correlation_id"] for row in rows)


def test_a_send_that_times_out_is_indeterminate_and_a_graph_error_is_failed(tmp_path: Path, mock_server) -> None:
    faults = f"{mock_server.base_url}/_mock/faults"
    slow = {"kind": "latency", "route": "messages", "distribution": "fixed", "ms": 3000}
    httpx.post(faults, json=slow, headers=mock_server.admin_headers).raise_for_status()
    timed_out = _probe(tmp_path / "slow", mock_server.base_url, timeout_s=0.5, requests=4)
    httpx.delete(faults, headers=mock_server.admin_headers).raise_for_status()
    error = {"kind": "error", "route": "messages", "code": 131026}  # HTTP 400: the send surely did not happen
    httpx.post(faults, json=error, headers=mock_server.admin_headers).raise_for_status()
    rejected = _probe(tmp_path / "error", mock_server.base_url, requests=4)

    assert {(row["outcome"], row["error_kind"]) for row in timed_out} == {("indeterminate", "timeout")}
    assert {(row["outcome"], row["error_kind"], row["error_code"]) for row in rejected} == {
        ("failed", "http", "131026")
    }
