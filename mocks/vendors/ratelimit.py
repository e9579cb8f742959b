"""Per-number send pacing: a token bucket per phone number id, on an injected clock.

The vendor paces itself below WhatsApp's throughput limit so a well-behaved queue rarely sees 130429; when it
does, the retry policy takes over.
"""

from __future__ import annotations

import asyncio

from ground.clock import Clock


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: int, clock: Clock) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self.clock = clock
        self.tokens = float(burst)
        self.updated = clock.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self.clock.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def try_take(self) -> float:
        """Take a token and return 0, or return the seconds until one is available."""
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    async def acquire(self) -> None:
        # One waiter at a time keeps the order fair between workers.
        async with self._lock:
            wait = self.try_take()
            if wait > 0:
                await self.clock.sleep(wait)
                # The wait paid for this token; never loop on float dust (large clock values lose precision).
                self._refill()
                self.tokens = max(0.0, self.tokens - 1.0)


class NumberLimiter:
    """One bucket per phone number id."""

    def __init__(self, rate_per_s: float, burst: int, clock: Clock) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}

    async def acquire(self, phone_number_id: str) -> None:
        bucket = self.buckets.get(phone_number_id)
        if bucket is None:
            bucket = self.buckets[phone_number_id] = TokenBucket(self.rate, self.burst, self.clock)
        await bucket.acquire()
