"""The fault seam: a name, a frozen parameter record, ``inject()`` and ``clear()``, registered by name.

Modelled on Toxiproxy's toxic registry (``toxics/toxic.go``: one ``Register(name, prototype)`` per file): every
fault module ends with a class decorated ``@register_fault("process-kill")``. A fault is built from its
parameters and the run's :class:`FaultTargets` (the processes, containers, proxies and mock the harness itself
started), so a YAML schedule can name a fault and a target without holding live objects.

Rules every fault follows (docs/adding-a-fault.md):

- ``inject()`` and ``clear()`` are blocking, bounded by their own timeouts, and raise on failure; the
  timeline turns a failure into an ``error`` event and a :class:`~ground.errors.FaultError`.
- ``clear()`` is idempotent: calling it when the fault is not (or no longer) in place is not an error,
  because the runner clears every fault it *tried* to inject, also after a failed inject.
- Randomness comes only from the ``seed`` parameter (or the schedule's seed), never the global ``random``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

from pydantic import ConfigDict, Field, ValidationError

from ground.durations import HumanDurations
from ground.errors import ConfigError
from ground.loading import validation_error
from ground.registry import Registry
from harness.faults.proxy.control import ProxyTarget as ProxyTarget  # its home is the proxy's control seam

if TYPE_CHECKING:
    from ground.services import ServiceProcess


class FaultParams(HumanDurations):
    """Parameters every fault shares; each fault subclasses this with its own fields.

    Its ``*_s`` and ``*_ms`` fields also take human durations (``grace_s: 10s``, ``jitter_ms: 0.5s``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    probability: float = Field(1.0, ge=0.0, le=1.0, description="chance that one scheduled occurrence happens")
    seed: int | None = Field(None, description="seed for the fault's own randomness (jitter, sampling)")


@runtime_checkable
class Fault(Protocol):
    """One injectable fault bound to one target."""

    name: ClassVar[str]
    params: FaultParams

    @property
    def target(self) -> str:
        """A short human name of what is hit, e.g. ``process:primary`` or ``proxy:vendor``."""

    def inject(self) -> None:
        """Put the fault in place; raise on failure."""

    def clear(self) -> None:
        """Undo it; idempotent; raise on failure."""


@dataclass
class UpstreamTarget:
    """The mock WhatsApp API's control plane (docs/contracts.md, "Control plane")."""

    base_url: str
    admin_token: str = "mock-admin-token"
    timeout_s: float = 5.0


_SINGULAR = {"processes": "process", "containers": "container", "proxies": "proxy", "upstream": "upstream"}


@dataclass
class FaultTargets:
    """What faults may hit in this run: only things the harness itself started or created.

    Keys are the logical names used in schedules (``target: primary``).
    """

    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    containers: dict[str, str] = field(default_factory=dict)  # logical name -> docker container name
    proxies: dict[str, ProxyTarget] = field(default_factory=dict)
    upstream: dict[str, UpstreamTarget] = field(default_factory=dict)

    def pick(self, kind: str, name: str) -> Any:
        table: Mapping[str, Any] = getattr(self, kind)
        if name in table:
            return table[name]
        if name == "" and len(table) == 1:
            return next(iter(table.values()))
        known = ", ".join(sorted(table)) or "none"
        raise ConfigError(
            f"no {_SINGULAR.get(kind, kind)} target named {name!r} in this run (known: {known})",
            field="target",
            value=name,
            fix=f"use one of the {kind} the run started, or add it to the run's fault targets",
        )


FaultT = TypeVar("FaultT")
Builder = Callable[[Any, FaultTargets, str], Fault]


@dataclass(frozen=True)
class FaultType:
    """A registry entry: how to validate parameters and build a fault."""

    name: str
    params_model: type[FaultParams]
    build: Builder
    summary: str

    def parse_params(
        self,
        data: Mapping[str, Any] | FaultParams | None,
        *,
        source: str = "<fault>",
        field_prefix: str = "params",
    ) -> FaultParams:
        if isinstance(data, self.params_model):
            return data
        raw = data.model_dump() if isinstance(data, FaultParams) else dict(data or {})
        try:
            return self.params_model.model_validate(raw)
        except ValidationError as exc:
            error = validation_error(exc, raw, source=source)
            raise ConfigError(
                f"fault {self.name!r}: {exc.errors()[0]['msg']}",
                source=source,
                field=f"{field_prefix}.{error.field}",
                value=error.value,
                fix=error.fix,
            ) from None

    def create(self, params: Mapping[str, Any] | FaultParams | None, targets: FaultTargets, target: str = "") -> Fault:
        return self.build(self.parse_params(params), targets, target)


class FaultRegistry(Registry[FaultType]):
    """Fault types by name (``ground.registry.Registry``). The default registry is filled by importing
    :mod:`harness.faults`; an unknown name is a ConfigError listing the known ones."""

    def __init__(self) -> None:
        super().__init__("fault", field="fault")


REGISTRY = FaultRegistry()


def register_fault(name: str, *, registry: FaultRegistry | None = None) -> Callable[[type[FaultT]], type[FaultT]]:
    """Class decorator: register a fault class with a nested ``Params`` model and a ``build`` classmethod."""

    def decorate(cls: type[FaultT]) -> type[FaultT]:
        buildable: Any = cls
        buildable.name = name
        summary = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else name
        (registry or REGISTRY).add(name, FaultType(name, buildable.Params, buildable.build, summary))
        return cls

    return decorate
