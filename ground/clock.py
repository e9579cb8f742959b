"""The clock seam: real time in production, a fake one in tests (no sleeps in unit tests).

Two readings matter: ``now()`` is wall-clock Unix seconds, the clock every record, ledger row and fault event
shares so they can be joined; ``monotonic()`` is for measuring durations and scheduling.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Wall-clock Unix seconds."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes backwards."""

    async def sleep(self, seconds: float) -> None:
        """Wait; a fake clock advances instead."""


class SystemClock:
    # The readings are the C functions themselves, not methods wrapping them: no Python frame per reading (the
    # webhook engine reads the clock four times per POST).
    now = staticmethod(time.time)
    monotonic = staticmethod(time.monotonic)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FakeClock:
    """A clock that only moves when told to; ``sleep`` advances it and yields once."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self._now = start
        self._origin = start

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now - self._origin

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)
