"""Upstream faults: WhatsApp itself has a bad hour. They drive the mock WhatsApp API's control plane.

Routes and bodies are those of docs/contracts.md ("Control plane"): ``POST /_mock/faults`` (kinds ``outage``,
``error``, ``latency``), ``DELETE /_mock/faults/{id}``, and ``GET``/``PATCH /_mock/limits`` for throttling.
``rate`` is the share of matching Graph requests hit (the mock's per-request ``probability``); the shared
``probability`` parameter stays the chance that a scheduled occurrence happens at all. ``seed`` is passed on
to the mock, so its dice are replayable too.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import httpx
from pydantic import Field

from ground.errors import FaultError
from harness.faults.base import FaultParams, FaultTargets, UpstreamTarget, register_fault

Route = Literal["messages", "media", "*"]


class UpstreamParams(FaultParams):
    route: Route = Field("*", description="Graph routes hit: messages, media or * (all)")
    phone_number_id: str | None = Field(None, description="only this business number; null = all")
    rate: float = Field(1.0, ge=0.0, le=1.0, description="share of matching requests hit")


def control_call(target: UpstreamTarget, method: str, path: str, *, json: Any = None, ok: tuple[int, ...]) -> Any:
    """One control-plane call with the admin token and a timeout; anything unexpected is a FaultError."""
    url = target.base_url.rstrip("/") + path
    headers = {"Authorization": f"Bearer {target.admin_token}"}
    try:
        with httpx.Client(timeout=target.timeout_s, trust_env=False) as client:
            response = client.request(method, url, json=json, headers=headers)
    except httpx.HTTPError as exc:
        raise FaultError(f"mock control plane {method} {url} failed: {type(exc).__name__}: {exc}") from exc
    if response.status_code not in ok:
        raise FaultError(f"mock control plane {method} {path} answered {response.status_code}: {response.text[:300]}")
    return response.json() if response.content else None


class _UpstreamFault:
    Params: ClassVar[type[FaultParams]] = UpstreamParams
    name: ClassVar[str]
    kind: ClassVar[str]
    kind_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: Any, upstream: UpstreamTarget, target_name: str) -> None:
        self.params = params
        self.upstream = upstream
        self._target = f"upstream:{target_name or 'whatsapp'}"
        self.mock_fault_id: str | None = None

    @property
    def target(self) -> str:
        return self._target

    @classmethod
    def build(cls, params: Any, targets: FaultTargets, target: str) -> _UpstreamFault:
        return cls(params, targets.pick("upstream", target), target)

    def body(self) -> dict[str, Any]:
        p = self.params
        body = {"kind": self.kind, "route": p.route, "phone_number_id": p.phone_number_id, "probability": p.rate}
        body["seed"] = p.seed
        body.update({name: getattr(p, name) for name in self.kind_fields})
        return body

    def inject(self) -> None:
        answer = control_call(self.upstream, "POST", "/_mock/faults", json=self.body(), ok=(200, 201))
        self.mock_fault_id = str(answer["id"])

    def clear(self) -> None:
        if self.mock_fault_id is not None:
            # 404: the mock lost it already (reset, restart); the end state we want is reached either way.
            control_call(self.upstream, "DELETE", f"/_mock/faults/{self.mock_fault_id}", ok=(200, 204, 404))
            self.mock_fault_id = None


class OutageParams(UpstreamParams):
    mode: Literal["503", "drop"] = Field("503", description="503 answers, or drop the connection")


@register_fault("upstream-outage")
class UpstreamOutage(_UpstreamFault):
    """WhatsApp is down: the mock answers 503 (or drops connections) on the chosen Graph routes."""

    Params = OutageParams
    kind = "outage"
    kind_fields = ("mode",)


class ErrorParams(UpstreamParams):
    code: int = Field(131000, ge=0, description="Graph error code, e.g. 131000, 130429, 131048")
    http_status: int | None = Field(None, ge=400, le=599, description="HTTP status; null = the code's usual one")


@register_fault("upstream-errors")
class UpstreamErrors(_UpstreamFault):
    """An error burst: the mock answers a chosen Graph error code on a share of requests."""

    Params = ErrorParams
    kind = "error"
    kind_fields = ("code", "http_status")


class LatencyParams(UpstreamParams):
    distribution: Literal["fixed", "uniform", "normal", "lognormal"] = "fixed"
    ms: float = Field(0.0, ge=0)
    min_ms: float = Field(0.0, ge=0)
    max_ms: float = Field(0.0, ge=0)
    mean_ms: float = Field(0.0, ge=0)
    stddev_ms: float = Field(0.0, ge=0)
    jitter_ms: float = Field(0.0, ge=0)


@register_fault("upstream-latency")
class UpstreamLatency(_UpstreamFault):
    """Slow WhatsApp: the mock delays Graph answers by a fixed or random latency."""

    Params = LatencyParams
    kind = "latency"
    kind_fields = ("distribution", "ms", "min_ms", "max_ms", "mean_ms", "stddev_ms", "jitter_ms")


class ThrottleParams(FaultParams):
    throughput_per_second: float | None = Field(None, gt=0, description="messages/s per business number")
    pair_rate_per_6s: float | None = Field(None, gt=0, description="messages per 6 s to one customer")
    pair_burst: int | None = Field(None, ge=0, description="burst allowed to one customer")
    tier: str | None = Field(None, description="messaging limit tier, e.g. 250, 1000, unlimited")


@register_fault("upstream-throttle")
class UpstreamThrottle:
    """Tighter WhatsApp limits for a while (PATCH /_mock/limits); the previous values come back on clear."""

    Params = ThrottleParams
    name: ClassVar[str]

    def __init__(self, params: ThrottleParams, upstream: UpstreamTarget, target_name: str) -> None:
        self.params = params
        self.upstream = upstream
        self._target = f"upstream:{target_name or 'whatsapp'}"
        self.previous: dict[str, Any] | None = None

    @property
    def target(self) -> str:
        return self._target

    @classmethod
    def build(cls, params: Any, targets: FaultTargets, target: str) -> UpstreamThrottle:
        return cls(params, targets.pick("upstream", target), target)

    def changes(self) -> dict[str, Any]:
        shared = set(FaultParams.model_fields)
        return {k: v for k, v in self.params.model_dump().items() if k not in shared and v is not None}

    def inject(self) -> None:
        changes = self.changes()
        if not changes:
            raise FaultError("upstream-throttle needs at least one limit to change (e.g. throughput_per_second)")
        current = control_call(self.upstream, "GET", "/_mock/limits", ok=(200,))
        self.previous = {key: current.get(key) for key in changes}
        control_call(self.upstream, "PATCH", "/_mock/limits", json=changes, ok=(200,))

    def clear(self) -> None:
        if self.previous is not None:
            control_call(self.upstream, "PATCH", "/_mock/limits", json=self.previous, ok=(200,))
            self.previous = None
