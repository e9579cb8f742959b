"""The SLA choice is pure analysis: the scenario's criteria come from the caller, never from an import upward."""

from __future__ import annotations

from typing import Any

from analysis.load import load_run
from analysis.sla_choice import choose_sla
from ground.errors import ConfigError


def test_without_scenario_criteria_the_standard_preset_says_why(synthetic_run) -> None:
    run = load_run(synthetic_run("plain", duration_s=30, fault_at_s=10, fault_s=2).path)
    spec = choose_sla(run, None)
    assert spec.source == "preset:standard"
    (note,) = spec.notes
    assert "criteria were not available to this analysis" in note


def test_the_given_criteria_are_used_and_a_refused_parameter_is_dropped(synthetic_run) -> None:
    run = load_run(synthetic_run("given", duration_s=30, fault_at_s=10, fault_s=2).path)
    asked: list[dict[str, Any]] = []

    def criteria(scenario: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        asked.append(dict(params))
        if len(asked) == 1 and params:
            raise ConfigError("no longer a parameter", field=next(iter(params)))
        return [{"metric": "latency_ms", "aggregation": "p50", "target": 60000}]

    spec = choose_sla(run, None, criteria)
    assert spec.source == f"scenario:{run.manifest.scenario}"
    assert len(asked) == (2 if asked[0] else 1)
    assert all("refuses its recorded parameter" in note for note in spec.notes)


def test_an_option_wins_over_everything(synthetic_run) -> None:
    run = load_run(synthetic_run("opt", duration_s=30, fault_at_s=10, fault_s=2).path)
    assert choose_sla(run, "enterprise", lambda *_: []).source == "preset:enterprise"
