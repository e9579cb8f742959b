"""The scenario's fault steps → registered faults: the failover placeholder follows the vendor profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.adapters.registry import load_profile
from harness.config.profiles import FailoverConfig
from harness.faults import REGISTRY
from harness.faults.timeline import FaultTimeline
from harness.run.faults import resolve, start_faults
from harness.stack.services import RunServices
from plan.load import FaultStep
from scenarios.registry import get

STEADY = Path(__file__).resolve().parents[3] / "vendors" / "reference-steady.yaml"


@pytest.mark.parametrize(
    ("method", "fault"), [(None, "process-kill"), ("process", "process-kill"), ("container", "container-kill"),
                          ("proxy", "proxy-down"), ("upstream", "upstream-outage")],
)  # fmt: skip
def test_failover_placeholder_follows_the_profiles_method(method: str | None, fault: str, tmp_path: Path) -> None:
    profile = load_profile(STEADY)
    if method is not None:
        target = "vendor-a" if method == "container" else None
        failover = FailoverConfig(method=method, target=target)  # type: ignore[arg-type]
        profile = profile.model_copy(update={"failover": failover})
    name, params = resolve(FaultStep(10, "failover", target="primary", duration_s=5), RunServices(profile, tmp_path))
    assert name == fault and name in REGISTRY
    if fault in ("process-kill", "container-kill"):
        assert params == {"restart": True}  # the primary comes back when the fault clears


def test_every_scenario_fault_is_a_registered_fault_with_valid_parameters(tmp_path: Path) -> None:
    services = RunServices(load_profile(STEADY), tmp_path)
    for name in ("failover", "throttle"):
        for step in get(name).plan(quick=True).faults:
            fault, params = resolve(step, services)
            REGISTRY.get(fault).parse_params(params)


def test_an_unavailable_fault_is_an_error_on_the_timeline_not_a_silent_skip(tmp_path: Path) -> None:
    plan = get("failover").plan(quick=True)
    plan = type(plan)(**{**plan.__dict__, "faults": (FaultStep(1, "meteor-strike"),)})
    timeline = FaultTimeline(tmp_path / "faults.jsonl")
    with start_faults(plan, RunServices(load_profile(STEADY), tmp_path), timeline):
        pass
    errors = [e for e in timeline.events if e.action == "error"]
    assert [e.fault for e in errors] == ["meteor-strike"] and not errors[0].ok
