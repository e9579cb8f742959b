"""The scenario registry: one module per scenario, looked up by name (``scrmbench scenarios list``)."""

from __future__ import annotations

from typing import Any

from ground.errors import ScenarioError
from scenarios import broadcast, capacity, data_volume, failover, media_burst, peak, soak, throttle, webhook_storm
from scenarios.base import Scenario

SCENARIOS: dict[str, Scenario] = {
    module.SCENARIO.name: module.SCENARIO
    for module in (peak, broadcast, media_burst, failover, soak, data_volume, capacity, throttle, webhook_storm)
}


def names() -> list[str]:
    return list(SCENARIOS)


def get(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ScenarioError(
            "unknown scenario",
            field="scenario",
            value=name,
            fix=f"use one of: {', '.join(SCENARIOS)} (see `scrmbench scenarios list`)",
        ) from None


def default_criteria(name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The scenario's default SLA criteria for recorded parameters (``analysis.sla_choice.ScenarioCriteria``)."""
    plan = get(name).plan(params, recorded=True)
    return [criterion.as_dict() for criterion in plan.criteria]
