"""Fault injection on the Graph routes: latency, error bursts, outages and slow responses (reference §6 gap b).

A fault is a frozen ``FaultSpec`` (the body of ``POST /_mock/faults``) plus its own ``random.Random(seed)``, so a
run with the same seeds and the same request order rolls the same dice. Faults apply to a route ("messages",
"media" or "*") and optionally one phone number, with a probability and an optional lifetime. The middleware in
``fault_middleware.py`` applies them; the control plane never sees them.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FaultKind = Literal["latency", "error", "outage", "slow"]
FaultRoute = Literal["messages", "media", "*"]


class FaultSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FaultKind
    route: FaultRoute = "*"
    phone_number_id: str | None = None
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    duration_s: float | None = Field(default=None, gt=0, le=30 * 86_400)
    seed: int | None = None
    # latency
    distribution: Literal["fixed", "uniform", "normal", "lognormal"] = "fixed"
    ms: float = Field(default=0.0, ge=0, le=600_000)
    min_ms: float = Field(default=0.0, ge=0, le=600_000)
    max_ms: float = Field(default=0.0, ge=0, le=600_000)
    mean_ms: float = Field(default=0.0, ge=0, le=600_000)
    stddev_ms: float = Field(default=0.0, ge=0, le=600_000)
    jitter_ms: float = Field(default=0.0, ge=0, le=600_000)
    # error
    code: int = Field(default=131000, ge=0, le=10_000_000)
    http_status: int | None = Field(default=None, ge=400, le=599)
    # outage
    mode: Literal["503", "drop"] = "503"
    # slow
    bytes_per_second: float = Field(default=1_000.0, gt=0, le=1e9)

    @model_validator(mode="after")
    def _consistent(self) -> FaultSpec:
        if self.kind == "latency" and self.distribution == "uniform" and self.max_ms < self.min_ms:
            raise ValueError(f"max_ms ({self.max_ms}) must be at least min_ms ({self.min_ms}) for a uniform latency")
        return self


@dataclass
class ActiveFault:
    id: str
    spec: FaultSpec
    created_at: float
    rng: random.Random
    hits: int = 0

    @property
    def until(self) -> float | None:
        return None if self.spec.duration_s is None else self.created_at + self.spec.duration_s

    def applies(self, route: str, phone_number_id: str | None, now: float) -> bool:
        spec = self.spec
        if spec.route != "*" and spec.route != route:
            return False
        if spec.phone_number_id is not None and spec.phone_number_id != phone_number_id:
            return False
        until = self.until
        if until is not None and now >= until:
            return False
        return spec.probability >= 1.0 or self.rng.random() < spec.probability

    def delay_s(self) -> float:
        spec, rng = self.spec, self.rng
        if spec.distribution == "uniform":
            ms = rng.uniform(spec.min_ms, spec.max_ms)
        elif spec.distribution == "normal":
            ms = rng.gauss(spec.mean_ms, spec.stddev_ms)
        elif spec.distribution == "lognormal":
            # Parameterised by the wanted mean and stddev of the delay itself, not of its logarithm.
            mean = max(spec.mean_ms, 1e-6)
            sigma2 = math.log(1.0 + (spec.stddev_ms / mean) ** 2)
            ms = rng.lognormvariate(math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2))
        else:
            ms = spec.ms
        if spec.jitter_ms:
            ms += rng.uniform(-spec.jitter_ms, spec.jitter_ms)
        return max(ms, 0.0) / 1000.0

    def describe(self, now: float) -> dict[str, Any]:
        until = self.until
        return {
            "id": self.id,
            **self.spec.model_dump(),
            "created_at": self.created_at,
            "until": until,
            "active": until is None or now < until,
            "hits": self.hits,
        }


@dataclass
class EventLog:
    """The control-plane timeline (GET /_mock/events): every fault and limit change with its time."""

    max_events: int = 10_000
    events: deque[dict[str, Any]] = field(default_factory=deque)

    def add(self, at: float, action: str, **detail: Any) -> None:
        self.events.append({"at": at, "action": action, **detail})
        while len(self.events) > self.max_events:
            self.events.popleft()

    def since(self, since: float | None) -> list[dict[str, Any]]:
        return [event for event in self.events if since is None or event["at"] >= since]


class FaultSet:
    def __init__(self, seed: int = 0, id_prefix: str = "f") -> None:
        self._seed = seed
        self._prefix = id_prefix
        self._ids = itertools.count(1)
        self.faults: dict[str, ActiveFault] = {}

    def add(self, spec: FaultSpec, now: float, fault_id: str | None = None) -> ActiveFault:
        """Add a fault; ``fault_id`` is given when a sharded mock repeats another shard's fault under its id."""
        number = next(self._ids)
        seed = spec.seed if spec.seed is not None else self._seed * 1_000_003 + number
        fault = ActiveFault(fault_id or f"{self._prefix}{number}", spec, now, random.Random(seed))
        self.faults[fault.id] = fault
        return fault

    def remove(self, fault_id: str) -> ActiveFault | None:
        return self.faults.pop(fault_id, None)

    def clear(self) -> list[str]:
        ids = list(self.faults)
        self.faults.clear()
        return ids

    def matching(self, route: str, phone_number_id: str | None, now: float) -> list[ActiveFault]:
        hits = [fault for fault in self.faults.values() if fault.applies(route, phone_number_id, now)]
        for fault in hits:
            fault.hits += 1
        return hits
