"""Stateful limiters with Meta's semantics (reference §4), all on the injected clock so tests never sleep.

- per phone number throughput: a token bucket, 80 msg/s by default -> 130429;
- per (phone number, recipient) pair: 1 per 6 s with a burst of 45 that borrows from the future -> 131056;
- business-initiated reach: unique users per rolling 24 h per WABA, by tier -> the tier error;
- the 24 h customer service window is checked here too, from the customer registry -> 131047;
- WABA management calls per hour (5000 for an active WABA) -> 80007.

A sharded mock (``--workers N``) gives every phone number to exactly one process, so these stay exact.
"""

from __future__ import annotations

from collections import OrderedDict

from mocks.whatsapp.config import LimitsConfig
from mocks.whatsapp.errors import GraphError

DAY_S = 86_400.0


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; starts full."""

    __slots__ = ("burst", "last", "rate", "tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.last = now

    def _refill(self, now: float) -> None:
        if now > self.last:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now

    def take(self, now: float) -> bool:
        self._refill(now)
        if self.tokens >= 1.0 - 1e-6:  # wall-clock floats near 1.7e9 lose ~1e-7 s; do not let that refuse a token
            self.tokens -= 1.0
            return True
        return False

    def full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.burst


class ReachWindow:
    """Unique users a WABA reached outside a customer window in the last 24 h (rolling)."""

    def __init__(self) -> None:
        self._first_seen: OrderedDict[str, float] = OrderedDict()

    def _expire(self, now: float) -> None:
        while self._first_seen:
            user, at = next(iter(self._first_seen.items()))
            if now - at < DAY_S:
                return
            del self._first_seen[user]

    def admit(self, user: str, now: float, limit: int | None) -> bool:
        self._expire(now)
        if user in self._first_seen or limit is None:
            return True  # unlimited tier: nothing to count and nothing kept, so memory stays bounded
        if len(self._first_seen) >= limit:
            return False
        self._first_seen[user] = now
        return True

    def __len__(self) -> int:
        return len(self._first_seen)


class Limiters:
    """All limiters of one mock process; ``update`` changes them live (PATCH /_mock/limits)."""

    _PRUNE_EVERY = 50_000  # pair buckets that refilled completely are forgotten, so memory stays bounded

    def __init__(self, config: LimitsConfig) -> None:
        self.config = config
        self._numbers: dict[str, TokenBucket] = {}
        self._pairs: dict[tuple[str, str], TokenBucket] = {}
        self._reach: dict[str, ReachWindow] = {}
        self._management: dict[str, TokenBucket] = {}
        self._since_prune = 0

    def update(self, config: LimitsConfig) -> None:
        self.config = config
        self._numbers.clear()  # new rates apply from now on with full buckets, as after a tier change
        self._pairs.clear()
        self._management.clear()

    def reset(self) -> None:
        self._numbers.clear()
        self._pairs.clear()
        self._reach.clear()
        self._management.clear()

    def check_throughput(self, phone_number_id: str, now: float) -> None:
        """Every message attempt that reaches a number counts against its throughput, accepted or not."""
        if not self.config.enabled:
            return
        bucket = self._numbers.get(phone_number_id)
        if bucket is None:
            rate = self.config.throughput_per_second
            bucket = self._numbers[phone_number_id] = TokenBucket(rate, self.config.throughput_burst or rate, now)
        if not bucket.take(now):
            raise GraphError(130429, "Cloud API message throughput has been reached.")

    def count_inbound(self, phone_number_id: str, now: float) -> None:
        """A customer message to the number uses throughput too (Meta counts both directions) but is never refused;
        the webhook engine calls this for each simulated inbound message."""
        if not self.config.enabled:
            return
        bucket = self._numbers.get(phone_number_id)
        if bucket is None:
            rate = self.config.throughput_per_second
            bucket = self._numbers[phone_number_id] = TokenBucket(rate, self.config.throughput_burst or rate, now)
        bucket.take(now)

    def check_pair(self, phone_number_id: str, recipient: str, now: float) -> None:
        if not self.config.enabled:
            return
        key = (phone_number_id, recipient)
        bucket = self._pairs.get(key)
        if bucket is None:
            bucket = self._pairs[key] = TokenBucket(self.config.pair_rate_per_6s / 6.0, self.config.pair_burst, now)
            self._since_prune += 1
            if self._since_prune >= self._PRUNE_EVERY:
                self._prune(now)
        if not bucket.take(now):
            raise GraphError(
                131056,
                "Message failed to send because there were too many messages sent from this phone number to the "
                "same phone number in a short period of time.",
            )

    def check_reach(self, waba_id: str, user: str, now: float) -> None:
        """A business-initiated message (outside the customer window) counts one unique user for the WABA."""
        if not self.config.enabled:
            return
        window = self._reach.get(waba_id)
        if window is None:
            window = self._reach[waba_id] = ReachWindow()
        if not window.admit(user, now, self.config.tier_limit):
            raise GraphError(
                self.config.tier_error_code,
                f"Business-initiated messaging limit reached: tier {self.config.tier} unique users in 24 hours.",
            )

    def check_management(self, waba_id: str, now: float) -> None:
        """WABA management calls per hour, as a bucket of the hourly allowance refilled evenly over the hour."""
        limit = self.config.management_requests_per_hour
        if not self.config.enabled or limit is None:
            return
        bucket = self._management.get(waba_id)
        if bucket is None:
            bucket = self._management[waba_id] = TokenBucket(limit / 3_600.0, float(limit), now)
        if not bucket.take(now):
            raise GraphError(80007, f"WhatsApp Business Account {waba_id} reached its limit of {limit} calls per hour.")

    def reach_count(self, waba_id: str) -> int:
        window = self._reach.get(waba_id)
        return len(window) if window else 0

    def _prune(self, now: float) -> None:
        self._since_prune = 0
        for key in [key for key, bucket in self._pairs.items() if bucket.full(now)]:
            del self._pairs[key]

    def pair_count(self) -> int:
        return len(self._pairs)
