"""`scrmbench run` starts what every shipped profile's ``launch`` names (facades and the mock alone included),
hands the run's seed to the mock, and applies the profile's per-operation timeouts inside Locust.

Each run is a tiny real one: mock process (+ facade process) + Locust + export, a few seconds each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from ground.records import RunManifest
from harness.recorder import read_requests
from harness.run.runner import execute
from harness.stack.services import RUN_MOCK_CONFIG, run_mock_config
from tests.fixtures.runs import quiet_run_request
from tests.fixtures.vendors import SHIPPED_PROFILES

TINY_BROADCAST = {"recipients": 24, "rate": 12, "drain_s": 1}
SEED = 41


def _run(tmp_path: Path, vendor: Path, scenario: str, overrides: dict[str, Any], **extra: Any) -> Path:
    request = quiet_run_request(tmp_path / "results", scenario, vendor=vendor, overrides=overrides, seed=SEED, **extra)
    return execute(request).run_dir


def test_the_run_seed_becomes_both_mock_seeds_and_explicit_settings_still_win() -> None:
    config = run_mock_config(7)
    assert config["seed"] == 7 and config["webhooks"] == {"seed": 7}
    assert config["limits"] == RUN_MOCK_CONFIG["limits"]  # the run's relaxed limits are kept
    overridden = run_mock_config(7, {"webhooks": {"seed": 99, "duplicate_rate": 0.0}, "ledger": {"memory_rows": 5}})
    assert overridden["seed"] == 7 and overridden["webhooks"] == {"seed": 99, "duplicate_rate": 0.0}
    assert overridden["ledger"] == {"memory_rows": 5}
    assert "seed" not in run_mock_config(None)


@pytest.mark.slow
@pytest.mark.parametrize(
    "profile", ["twilio-facade.yaml", "wati-facade.yaml", "360dialog-facade.yaml", "cloud-api-mock.yaml"]
)
def test_a_facade_or_mock_profile_runs_and_its_sends_reach_the_ledger(tmp_path: Path, profile: str) -> None:
    run_dir = _run(tmp_path, SHIPPED_PROFILES / profile, "broadcast", TINY_BROADCAST)

    manifest = RunManifest.model_validate_json((run_dir / "manifest.json").read_text())
    assert manifest.complete
    requests = read_requests(run_dir).to_pandas()
    assert len(requests) >= 20
    assert set(requests["operation"]) <= {"send_template", "send_text"}
    assert (requests["outcome"] == "ok").all(), requests["error_text"].value_counts().head()
    delivered = set(pq.read_table(run_dir / "ledger.parquet").to_pandas()["correlation_id"].dropna())
    assert requests["correlation_id"].isin(delivered).all()
    # The load went to what the run started, not to the fixed port written in the shipped profile.
    effective = yaml.safe_load((run_dir / "vendor-profile.yaml").read_text())
    written = yaml.safe_load((SHIPPED_PROFILES / profile).read_text())
    assert effective["base_url"] != written["base_url"]
    # The run's --seed reached the mock: top-level and webhook engine.
    mock_config = yaml.safe_load((run_dir / "mock-config.yaml").read_text())
    assert mock_config["seed"] == SEED and mock_config["webhooks"]["seed"] == SEED


@pytest.mark.slow
def test_a_slow_operation_times_out_at_its_profile_timeout_in_a_real_run(tmp_path: Path) -> None:
    # The mock (launch kind mock) answers uploads after 8 s; the profile gives upload_media 1 s, send_text 10 s.
    data = yaml.safe_load((SHIPPED_PROFILES / "cloud-api-mock.yaml").read_text())
    data["timeouts"] = {"default": 10, "upload_media": 1}
    profile = tmp_path / "slow-media.yaml"
    profile.write_text(yaml.safe_dump(data))
    slow_media = {"kind": "latency", "route": "media", "distribution": "fixed", "ms": 8000}
    overrides = {"uploads": 4, "rate": 2, "max_image_kb": 20, "max_pdf_kb": 30, "drain_s": 1}

    run_dir = _run(tmp_path, profile, "media-burst", overrides, mock_settings={"faults": [slow_media]})

    requests = read_requests(run_dir).to_pandas()
    uploads = requests[requests["operation"] == "upload_media"]
    texts = requests[requests["operation"] == "send_text"]
    assert len(requests) == 8  # 4 uploads' worth of slots, one text each; the mix picks each slot's operation
    assert len(uploads) >= 1 and len(texts) >= 1
    assert set(zip(uploads["outcome"], uploads["error_kind"], strict=True)) == {("indeterminate", "timeout")}
    # At about its own timeout: not before it, and well before the mock's 8 s answer or Locust's 60 s default.
    assert (uploads["latency_ms"] >= 1000 * 0.99).all(), uploads["latency_ms"].tolist()
    assert (uploads["latency_ms"] < 6000).all(), uploads["latency_ms"].tolist()
    assert uploads["error_text"].str.contains("upload_media").all()
    # The other operation, on the same users' connections, is unaffected.
    assert (texts["outcome"] == "ok").all(), texts["error_text"].value_counts().head()
