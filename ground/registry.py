"""One registry shape for every plug-in kind: faults, toxics, adapters, scenarios (and, later, vendor behaviours
and facades).

Each kind owns one ``Registry[T]`` beside its base type, and each plug-in registers itself where it is defined::

    FAULTS: Registry[FaultType] = Registry("fault", field="fault")

    @FAULTS.register("latency")      # or FAULTS.add("latency", item)
    class Latency: ...

``get`` of an unknown name raises a ``ConfigError`` naming the field, the value and the known names; registering
a different object under a taken name is a programming error (``ValueError``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from ground.errors import ConfigError

T = TypeVar("T")
Decorated = TypeVar("Decorated")


class Registry(Generic[T]):
    """Items of one kind by name.

    ``message`` and ``fix`` phrase the unknown-name error (``fix`` may use ``{names}``); ``ordered`` keeps
    names in registration order instead of sorting them; ``error`` is the ``ConfigError`` subclass raised.
    """

    def __init__(
        self,
        kind: str,
        *,
        field: str | None = None,
        message: str | None = None,
        fix: str = "use one of: {names}",
        ordered: bool = False,
        error: type[ConfigError] = ConfigError,
    ) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._field = field or kind
        self._message = message or f"unknown {kind}"
        self._fix = fix
        self._ordered = ordered
        self._error = error

    def add(self, name: str, item: T) -> T:
        """Register ``item`` as ``name``; the same item again is a no-op, a different one a ``ValueError``."""
        known = self._items.get(name)
        if known is not None and known is not item and known != item:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = item
        return item

    def register(self, name: str) -> Callable[[Decorated], Decorated]:
        """Decorator form of ``add`` for items that are the decorated object itself."""

        def decorate(obj: Decorated) -> Decorated:
            self.add(name, obj)  # type: ignore[arg-type]
            return obj

        return decorate

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise self._error(
                self._message, field=self._field, value=name, fix=self._fix.format(names=", ".join(self.names()))
            ) from None

    def names(self) -> list[str]:
        return list(self._items) if self._ordered else sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        return [(name, self._items[name]) for name in self.names()]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return True  # an empty registry is still a registry: ``registry or DEFAULT`` must not pick the default

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()!r})"
