"""Toxics for the chaos proxy, modelled on Toxiproxy's ``toxics/toxic.go``.

A toxic is a small frozen record of attributes (same names and units as Toxiproxy, so its docs apply) with one
required method, ``pipe``: an async generator that receives one chunk read from a connection and yields what
should be written on, possibly later, split, or not at all. Optional capabilities are separate methods a toxic
may define, looked up with ``getattr`` (Toxiproxy's ``CleanupToxic``/``StatefulToxic`` idea):

- ``on_link(ctx)``: a coroutine started when the toxic meets a connection (a timer that closes or resets it);
  cancelled when the toxic is removed or the connection ends.
- ``on_eof(ctx)``: awaited when the source side closed, before the proxy closes the other side (slow close).

Each toxic registers itself with ``@register_toxic("latency")``; every toxic module stays small.

Rules (docs/adding-a-fault.md): never block the event loop, sleep only with ``asyncio.sleep``, draw
randomness only from ``ctx.rng`` (seeded by the proxy), and never drop data unless dropping is the toxic's job.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ground.registry import Registry

Stream = Literal["upstream", "downstream"]  # upstream: client -> server; downstream: server -> client


class CloseLink(Exception):
    """Raised inside a toxic to end the connection (both sides); ``reset`` sends a TCP RST instead of a FIN."""

    def __init__(self, reason: str, *, reset: bool = False) -> None:
        super().__init__(reason)
        self.reset = reset


@dataclass
class Chunk:
    data: bytes
    at: float = field(default_factory=time.monotonic)  # when it was read; latency counts from here


class LinkHandle:
    """What a toxic may do to the connection it is attached to."""

    def close(self, reason: str, *, reset: bool = False) -> None:  # pragma: no cover - implemented by Link
        raise NotImplementedError


@dataclass
class ToxicContext:
    """Per connection, per toxic: whether it applies (toxicity draw), its random source and its state."""

    link: LinkHandle
    rng: random.Random
    applies: bool
    state: dict[str, Any] = field(default_factory=dict)


class Toxic(BaseModel):
    """Base of every toxic's attribute record."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type_name: ClassVar[str] = ""

    async def pipe(self, chunk: Chunk, ctx: ToxicContext) -> AsyncIterator[Chunk]:
        yield chunk


class ToxicSpec(BaseModel):
    """A toxic on a proxy, as in Toxiproxy's JSON: ``{name, type, stream, toxicity, attributes}``."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    type: str
    stream: Stream = "downstream"
    toxicity: float = Field(1.0, ge=0.0, le=1.0)
    attributes: dict[str, Any] = Field(default_factory=dict)

    def with_default_name(self) -> ToxicSpec:
        return self if self.name else self.model_copy(update={"name": f"{self.type}_{self.stream}"})


@dataclass(frozen=True)
class ActiveToxic:
    """A toxic in place on a proxy: its spec as stored and the toxic built from it (what a link runs)."""

    spec: ToxicSpec
    toxic: Toxic


TOXICS: Registry[type[Toxic]] = Registry("toxic", field="type")
ToxicT = TypeVar("ToxicT", bound=type[Toxic])


def register_toxic(type_name: str) -> Callable[[ToxicT], ToxicT]:
    def decorate(cls: ToxicT) -> ToxicT:
        TOXICS.add(type_name, cls)
        cls.type_name = type_name
        return cls

    return decorate


def build_toxic(spec: ToxicSpec) -> Toxic:
    """Validate a spec's attributes against its type; raises KeyError (unknown type) or pydantic's ValidationError."""
    if spec.type not in TOXICS:
        raise KeyError(spec.type)
    return TOXICS.get(spec.type).model_validate(spec.attributes)
