"""Hand each scheduled slot to a free user at its time, or count it as dropped (k6's ``dropped_iterations``).

This is the clock-driven core of the open model, kept free of gevent so it can be tested on a ``FakeClock``.
The Locust glue (``harness.loadgen.locust_engine``) owns the greenlets: it sleeps until ``next_due_at()``,
then calls ``release_due()``.

A slot is *handed* when a user of the pool is idle at its time; the user starts the request at once and the
record carries ``scheduled_at``, so corrected latency = end − scheduled includes any queueing the generator
itself added. A slot with no idle user is *dropped*: the harness never quietly starts it late, because a late
start is exactly how closed-model tools hide a stall.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Slot:
    sequence: int  # this worker's slot number, from 0
    scheduled_at: float  # wall-clock Unix seconds when the request should start


class SlotPool(Protocol):
    def idle(self) -> int:
        """Users waiting for a slot right now."""

    def hand(self, slot: Slot) -> None:
        """Give ``slot`` to one idle user (the caller checked ``idle() > 0``)."""


@dataclass
class DispatchCounts:
    handed: int = 0
    dropped: int = 0
    max_lag_s: float = 0.0  # how late the dispatcher itself released a slot (its own scheduling delay)


class Dispatcher:
    def __init__(
        self,
        offsets: Iterator[float],
        *,
        start_at: float,
        pool: SlotPool,
        on_dropped: Callable[[Slot], None],
    ) -> None:
        self._offsets = offsets
        self._start_at = start_at
        self._pool = pool
        self._on_dropped = on_dropped
        self._sequence = 0
        self._next: Slot | None = None
        self.counts = DispatchCounts()
        self._advance()

    def _advance(self) -> None:
        offset = next(self._offsets, None)
        if offset is None:
            self._next = None
            return
        self._next = Slot(self._sequence, self._start_at + offset)
        self._sequence += 1

    @property
    def finished(self) -> bool:
        return self._next is None

    def next_due_at(self) -> float | None:
        """Wall-clock time of the next slot, or None when the schedule is exhausted."""
        return self._next.scheduled_at if self._next else None

    def release_due(self, now: float) -> list[Slot]:
        """Hand or drop every slot due at ``now``; returns the slots handed."""
        handed: list[Slot] = []
        while self._next is not None and self._next.scheduled_at <= now:
            slot = self._next
            self.counts.max_lag_s = max(self.counts.max_lag_s, now - slot.scheduled_at)
            if self._pool.idle() > 0:
                self._pool.hand(slot)
                self.counts.handed += 1
                handed.append(slot)
            else:
                self.counts.dropped += 1
                self._on_dropped(slot)
            self._advance()
        return handed
