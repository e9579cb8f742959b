"""The run spec: written without secrets, read back whole, sent to workers whole; one context per process."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from ground.errors import ScenarioError
from harness.adapters.registry import load_profile
from harness.loadgen.options import EngineOptions
from harness.loadgen.spec import (
    RUN_SPEC_FILE,
    RunSpec,
    read_run_spec,
    spec_from_dict,
    spec_from_options,
    write_run_spec,
)
from scenarios.registry import get as get_scenario

ROOT = Path(__file__).resolve().parents[3]
STEADY = ROOT / "vendors" / "reference-steady.yaml"


def a_spec(tmp_path: Path) -> RunSpec:
    params = get_scenario("peak").params({"rate": 7}, quick=True).model_dump(mode="json")
    return RunSpec(
        profile=load_profile(STEADY),
        scenario="peak",
        params=params,
        run_id="run-1",
        run_tag="abc123",
        results_dir=str(tmp_path),
        seed=3,
        quick=True,
        phase=0,
        mock_url="http://127.0.0.1:9",
        profile_file=str(STEADY),
    )


def test_the_file_has_no_secret_and_reads_back_to_the_same_spec(tmp_path: Path) -> None:
    spec = a_spec(tmp_path)
    path = write_run_spec(tmp_path, spec)
    assert path.name == RUN_SPEC_FILE
    data = json.loads(path.read_text())
    assert "dev_default" not in data["vendor"]["auth"] and data["vendor"]["auth"]["token_env"] == "REFERENCE_API_KEY"
    assert "reference-api-key" not in path.read_text()
    back = read_run_spec(path)
    assert back == spec and back.profile.auth.dev_default == spec.profile.auth.dev_default
    assert dict(back.params) == dict(spec.params) and back.params["rate"] == 7


def test_workers_elsewhere_get_the_whole_profile_without_its_file(tmp_path: Path) -> None:
    spec = a_spec(tmp_path)
    received = spec_from_dict(json.loads(spec.wire_json()), source="spawn")
    assert received.profile == spec.profile and received.profile_file == ""
    assert received.for_phase(1).phase == 1 and received.phase == 0


def test_a_plain_run_builds_the_spec_from_its_options(tmp_path: Path) -> None:
    options = EngineOptions(
        scenario="peak", vendor=str(STEADY), vendor_json="", quick=True, params={"rate": 7}, seed=3,
        results_dir=str(tmp_path), run_id="run-1", run_tag="abc123", phase=0, mock_url="http://127.0.0.1:9",
    )  # fmt: skip
    assert spec_from_options(options) == a_spec(tmp_path)
    with pytest.raises(ScenarioError, match="no vendor profile"):
        spec_from_options(EngineOptions(**{**vars(options), "vendor": ""}))


def test_a_foreign_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / RUN_SPEC_FILE).write_text('{"scenario": "peak"}')
    with pytest.raises(ScenarioError, match="run spec"):
        read_run_spec(tmp_path / RUN_SPEC_FILE)
    with pytest.raises(ScenarioError, match="cannot read"):
        read_run_spec(tmp_path / "missing.json")


def test_a_sharded_runs_routes_and_customer_numbers_travel_with_the_spec(tmp_path: Path) -> None:
    routes = {"100000000000001": "http://127.0.0.1:9100", "100000000000002": "http://127.0.0.1:9101"}
    spec = replace(a_spec(tmp_path), routes=routes, customer_numbers=("100000000000001", "100000000000002"))
    assert read_run_spec(write_run_spec(tmp_path, spec)) == spec
    received = spec_from_dict(json.loads(spec.wire_json()), source="spawn")
    assert dict(received.routes) == routes and received.customer_numbers == spec.customer_numbers
    older = {k: v for k, v in json.loads(spec.wire_json()).items() if k not in ("routes", "customer_numbers")}
    plain = spec_from_dict(older, source="an older runner")  # a spec without them: one mock process
    assert dict(plain.routes) == {} and plain.customer_numbers == ()
