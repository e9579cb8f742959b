"""The scenario registry: one module per scenario, looked up by name (``scrmbench scenarios list``).

Each scenario module adds itself to ``scenarios.base.SCENARIOS`` when imported; the imports below are in listing
order.
"""

from __future__ import annotations

from typing import Any

# isort: off
from scenarios import peak, broadcast, media_burst, failover, soak, data_volume, capacity  # noqa: F401
from scenarios import throttle, webhook_storm, contact_center  # noqa: F401

# isort: on
from scenarios.base import SCENARIOS, Scenario

__all__ = ["SCENARIOS", "default_criteria", "get", "names"]


def names() -> list[str]:
    return SCENARIOS.names()


def get(name: str) -> Scenario:
    """The scenario called ``name``; a ScenarioError naming the known ones otherwise."""
    return SCENARIOS.get(name)


def default_criteria(name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The scenario's default SLA criteria for recorded parameters (``analysis.sla_choice.ScenarioCriteria``)."""
    plan = get(name).plan(params, recorded=True)
    return [criterion.as_dict() for criterion in plan.criteria]
