"""Chaos proxy faults: one fault per toxic (``proxy-latency``, ``proxy-bandwidth``, ...) and ``proxy-down``.

Each toxic fault's parameters are the toxic's own attributes (Toxiproxy names and units) plus ``stream`` and
``toxicity`` (the share of connections hit), so a schedule reads like Toxiproxy's JSON::

    - fault: proxy-latency
      target: vendor
      at: 60s
      duration: 30s
      params: {latency: 400, jitter: 50, stream: downstream}

They act through a :class:`~harness.faults.proxy.control.ProxyControl`: the HTTP client of a
``scrmbench proxy serve`` process, or an in-process :class:`ProxyServer`.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any, ClassVar, Literal

from pydantic import Field, create_model

from harness.faults.base import FaultParams, FaultTargets, register_fault
from harness.faults.proxy.control import ProxyTarget
from harness.faults.proxy.toxics import TOXICS, Toxic


class _ProxyFault:
    Params: ClassVar[type[FaultParams]] = FaultParams
    name: ClassVar[str]

    def __init__(self, params: Any, proxy: ProxyTarget, target_name: str) -> None:
        self.params = params
        self.proxy = proxy
        self._target = f"proxy:{target_name or proxy.proxy}"

    @property
    def target(self) -> str:
        return self._target

    @classmethod
    def build(cls, params: Any, targets: FaultTargets, target: str) -> _ProxyFault:
        return cls(params, targets.pick("proxies", target), target)


@register_fault("proxy-down")
class ProxyDown(_ProxyFault):
    """Take the proxied endpoint down: refuse new connections and drop open ones; back up on clear."""

    def inject(self) -> None:
        self.proxy.control.set_enabled(self.proxy.proxy, False)

    def clear(self) -> None:
        self.proxy.control.set_enabled(self.proxy.proxy, True)


class _ToxicFault(_ProxyFault):
    toxic_type: ClassVar[str]

    def __init__(self, params: Any, proxy: ProxyTarget, target_name: str) -> None:
        super().__init__(params, proxy, target_name)
        # A name of its own, so two overlapping faults of one type on one proxy do not collide.
        self.toxic_name = f"scrmbench-{self.toxic_type}-{uuid.uuid4().hex[:8]}"

    def toxic_body(self) -> dict[str, Any]:
        shared = set(FaultParams.model_fields) | {"stream", "toxicity"}
        attributes = {k: v for k, v in self.params.model_dump().items() if k not in shared}
        return {
            "name": self.toxic_name,
            "type": self.toxic_type,
            "stream": self.params.stream,
            "toxicity": self.params.toxicity,
            "attributes": attributes,
        }

    def inject(self) -> None:
        self.proxy.control.add_toxic(self.proxy.proxy, self.toxic_body())

    def clear(self) -> None:
        # Removed, never set to toxicity 0: Toxiproxy #603 shows a zero-toxicity toxic can still bite.
        self.proxy.control.remove_toxic(self.proxy.proxy, self.toxic_name, missing_ok=True)


def _toxic_fault(toxic_type: str, toxic: type[Toxic]) -> type[_ToxicFault]:
    own = {name: info for name, info in toxic.model_fields.items() if name not in FaultParams.model_fields}
    fields: dict[str, Any] = {name: (info.annotation, info) for name, info in own.items()}
    fields["stream"] = (Literal["upstream", "downstream"], Field("downstream", description="direction it acts on"))
    fields["toxicity"] = (float, Field(1.0, ge=0.0, le=1.0, description="share of connections hit"))
    params = create_model(f"Proxy{toxic.__name__}Params", __base__=FaultParams, **fields)
    fault_name = "proxy-" + toxic_type.replace("_", "-")
    what = (sys.modules[toxic.__module__].__doc__ or toxic_type).strip().splitlines()[0]
    doc = f"Chaos proxy toxic {what}"
    cls = type(f"Proxy{toxic.__name__}", (_ToxicFault,), {"Params": params, "toxic_type": toxic_type, "__doc__": doc})
    return register_fault(fault_name)(cls)


PROXY_TOXIC_FAULTS = {toxic_type: _toxic_fault(toxic_type, toxic) for toxic_type, toxic in sorted(TOXICS.items())}
