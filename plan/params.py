"""The parameters every scenario shares, with their bounds (every scenario is bounded in time and in load).

Scenario modules subclass :class:`ScenarioParams` with their own fields and defaults; the bounds are pydantic
constraints, checked at the edge (``scenarios.base.Scenario.params``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml
from pydantic import ConfigDict, Field

from ground.durations import HumanDurations
from ground.errors import ScenarioError
from plan.load import ArrivalName, LoadModel

MAX_DURATION_S = 7 * 24 * 3600  # every scenario is bounded in time (design.md, Safety)
MAX_RATE = 20_000.0
MAX_USERS = 20_000


class ScenarioParams(HumanDurations):
    """Parameters every scenario shares; scenario modules subclass it with their own fields and defaults.

    Its ``*_s`` and ``*_ms`` fields also take human durations: ``--param drain_s=30s``, ``reply_p95_ms=2s``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    duration_s: float = Field(60.0, gt=0, le=MAX_DURATION_S, description="length of the load phase")
    load_model: LoadModel = Field("open", description="open: arrival rate; closed: users with think time")
    rate: float = Field(10.0, gt=0, le=MAX_RATE, description="open model: arrivals per second (the shape's level)")
    users: int = Field(10, ge=1, le=MAX_USERS, description="closed model: concurrent users")
    think_time_s: float = Field(1.0, ge=0, le=3600, description="closed model: pause between a user's requests")
    arrival: ArrivalName = Field("constant", description="open model: evenly spaced or Poisson arrivals")
    pool_size: int = Field(
        200, ge=1, le=MAX_USERS, description="open model: users ready per worker; a slot with none idle is dropped"
    )
    customers: int = Field(1000, ge=1, le=10_000_000, description="simulated customers (Faker, seeded)")
    drain_s: float = Field(5.0, ge=0, le=3600, description="wait after the load for late deliveries and webhooks")

    def engine_fields(self, **overrides: Any) -> dict[str, Any]:
        """The LoadPlan fields every scenario takes straight from these shared parameters."""
        fields = {
            "load_model": self.load_model,
            "arrival": self.arrival,
            "pool_size": self.pool_size,
            "think_time_s": self.think_time_s,
            "customers": self.customers,
            "drain_s": self.drain_s,
        }
        return {**fields, **overrides}


PARAM_FIX = "quote the value, e.g. --param 'text=\"@x\"' or --param 'tags=[a, b]'"


def parse_param_items(items: Iterable[str]) -> dict[str, Any]:
    """``scrmbench run --param KEY=VALUE`` items as overrides; each value is read as YAML (``rate=20`` is a number,
    ``drain_s=30s`` a string the scenario parses). A malformed item is a ``ScenarioError`` naming it and the fix;
    the scenario then checks names and bounds (``scenarios.base.Scenario.params``)."""
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError("expected KEY=VALUE", field="--param", value=item, fix="write e.g. --param rate=20")
        try:
            parsed[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or type(exc).__name__
            raise ScenarioError(
                f"the value is not valid YAML ({problem})", field="--param", value=item, fix=PARAM_FIX
            ) from None
    return parsed
