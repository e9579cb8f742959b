"""Stateful limiters with Meta's semantics (reference §4), all on the injected clock so tests never sleep.

- per phone number throughput: a token bucket, 80 msg/s by default -> 130429;
- per (phone number, recipient) pair: 1 per 6 s with a burst of 45 that borrows from the future -> 131056;
- business-initiated reach: unique users per rolling 24 h per business portfolio (or per WABA, the older
  scope), by tier -> the tier error; the tier scales up automatically (every 6 h, when the peak 24 h reach of the
  last 7 days was at least half the limit), and an unlimited portfolio's numbers are upgraded to 1,000 msg/s
  after ``throughput_upgrade_s`` of 131057 (docs/whatsapp-2026.md §2-3);
- the 24 h customer service window is checked here too, from the customer registry -> 131047;
- WABA management calls per hour (5000 for an active WABA) -> 80007.

A sharded mock (``--workers N``) gives every phone number to exactly one process, so these stay exact.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from typing import Any

from mocks.whatsapp.config import TIER_ORDER, TIERS, LimitsConfig, PhoneNumberConfig
from mocks.whatsapp.errors import GraphError

DAY_S = 86_400.0
HIGH_THROUGHPUT = 1_000.0
COEXISTENCE_THROUGHPUT = 20.0
LimitEvent = Callable[[str, dict[str, Any]], None]


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
        # ``_refill`` written out (the send path takes two tokens per message): the same arithmetic, one call less.
        tokens = self.tokens
        if now > self.last:
            tokens = min(self.burst, tokens + (now - self.last) * self.rate)
            self.last = now
        if tokens >= 1.0 - 1e-6:  # wall-clock floats near 1.7e9 lose ~1e-7 s; do not let that refuse a token
            self.tokens = tokens - 1.0
            return True
        self.tokens = tokens
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


class Scaling:
    """One reach key's tier and the daily peaks of its 24 h reach, for automatic scaling."""

    __slots__ = ("last_eval", "peaks", "tier")

    def __init__(self, tier: str, now: float) -> None:
        self.tier = tier
        self.last_eval = now
        self.peaks: deque[list[float]] = deque()  # [day number, peak unique users that day]

    def note(self, reach: int, now: float) -> None:
        day = now // DAY_S
        if self.peaks and self.peaks[-1][0] == day:
            if reach > self.peaks[-1][1]:
                self.peaks[-1][1] = reach
        else:
            self.peaks.append([day, reach])


class Limiters:
    """All limiters of one mock process; ``update`` changes them live (PATCH /_mock/limits).

    ``on_event(action, detail)`` hears tier upgrades (``messaging_limit_upgraded``) and throughput upgrades
    (``throughput_upgrade_started``, with ``phone_number_id`` and ``duration_s``).
    """

    _PRUNE_EVERY = 50_000  # pair buckets that refilled completely are forgotten, so memory stays bounded

    def __init__(
        self,
        config: LimitsConfig,
        numbers: Mapping[str, PhoneNumberConfig] | None = None,
        on_event: LimitEvent | None = None,
    ) -> None:
        self.config = config
        self.numbers = dict(numbers or {})
        self.on_event = on_event
        self._numbers: dict[str, TokenBucket] = {}
        self._pairs: dict[tuple[str, str], TokenBucket] = {}
        self._reach: dict[str, ReachWindow] = {}
        self._scaling: dict[str, Scaling] = {}
        self._management: dict[str, TokenBucket] = {}
        self._upgrading: dict[str, float] = {}  # phone number id -> monotonic time its upgrade ends
        self._high: set[str] = set()  # numbers upgraded to 1,000 msg/s
        self._since_prune = 0

    def update(self, config: LimitsConfig) -> None:
        if config.tier != self.config.tier:
            self._scaling.clear()  # a tier set by hand applies to every portfolio from now on
        self.config = config
        self._numbers.clear()  # new rates apply from now on with full buckets, as after a tier change
        self._pairs.clear()
        self._management.clear()

    def reset(self) -> None:
        self._numbers.clear()
        self._pairs.clear()
        self._reach.clear()
        self._scaling.clear()
        self._management.clear()
        self._upgrading.clear()
        self._high.clear()

    def rate_of(self, phone_number_id: str) -> float:
        number = self.numbers.get(phone_number_id)
        if number is not None and number.coexistence:
            return COEXISTENCE_THROUGHPUT
        if phone_number_id in self._high:
            return max(HIGH_THROUGHPUT, self.config.throughput_per_second)
        return self.config.throughput_per_second

    def level_of(self, phone_number_id: str) -> str:
        return "HIGH" if self.rate_of(phone_number_id) >= HIGH_THROUGHPUT else "STANDARD"

    def _bucket(self, phone_number_id: str, now: float) -> TokenBucket:
        if self._upgrading:
            self._upgrade_state(phone_number_id, now)
        bucket = self._numbers.get(phone_number_id)
        if bucket is None:
            rate = self.rate_of(phone_number_id)
            burst = self.config.throughput_burst if rate == self.config.throughput_per_second else None
            bucket = self._numbers[phone_number_id] = TokenBucket(rate, burst or rate, now)
        return bucket

    def _upgrade_state(self, phone_number_id: str, now: float) -> None:
        until = self._upgrading.get(phone_number_id)
        if until is None:
            return
        if now < until:
            raise GraphError(131057, "Business account is in maintenance mode: its throughput upgrade is in progress.")
        del self._upgrading[phone_number_id]
        self._high.add(phone_number_id)
        self._numbers.pop(phone_number_id, None)

    def start_throughput_upgrade(self, phone_number_id: str, now: float) -> bool:
        """Begin the upgrade to 1,000 msg/s: 131057 for ``throughput_upgrade_s``, then HIGH. False when the number
        is a coexistence number, already HIGH or upgrading."""
        number = self.numbers.get(phone_number_id)
        if (
            (number is not None and number.coexistence)
            or phone_number_id in self._high
            or phone_number_id in self._upgrading
        ):
            return False
        self._upgrading[phone_number_id] = now + self.config.throughput_upgrade_s
        if self.on_event is not None:
            detail = {"phone_number_id": phone_number_id, "duration_s": self.config.throughput_upgrade_s}
            self.on_event("throughput_upgrade_started", detail)
        return True

    def upgrading(self, phone_number_id: str) -> bool:
        return phone_number_id in self._upgrading

    def check_throughput(self, phone_number_id: str, now: float) -> None:
        """Every message attempt that reaches a number counts against its throughput, accepted or not."""
        if not self.config.enabled:
            return
        if not self._bucket(phone_number_id, now).take(now):
            raise GraphError(130429, "Cloud API message throughput has been reached.")

    def count_inbound(self, phone_number_id: str, now: float) -> None:
        """A customer message to the number uses throughput too (Meta counts both directions) but is never refused;
        the webhook engine calls this for each simulated inbound message."""
        if not self.config.enabled:
            return
        try:
            self._bucket(phone_number_id, now).take(now)
        except GraphError:
            return  # upgrading: the number takes no traffic, inbound is not refused by the mock

    def check_send(self, phone_number_id: str, recipient: str, now: float) -> None:
        """``check_throughput`` then ``check_pair`` in one call (the send path's): the same tokens taken, the same
        errors in the same order (a message its pair refuses still used a throughput token)."""
        if not self.config.enabled:
            return
        bucket = None if self._upgrading else self._numbers.get(phone_number_id)
        if bucket is None:
            bucket = self._bucket(phone_number_id, now)
        if not bucket.take(now):
            raise GraphError(130429, "Cloud API message throughput has been reached.")
        pair = self._pairs.get((phone_number_id, recipient))
        if pair is None or not pair.take(now):
            self._pair_missed(phone_number_id, recipient, now, pair)

    def check_pair(self, phone_number_id: str, recipient: str, now: float) -> None:
        if not self.config.enabled:
            return
        bucket = self._pairs.get((phone_number_id, recipient))
        if bucket is None or not bucket.take(now):
            self._pair_missed(phone_number_id, recipient, now, bucket)

    def _pair_missed(self, phone_number_id: str, recipient: str, now: float, bucket: TokenBucket | None) -> None:
        """The pair had no bucket (``bucket`` None: make one, full, and take its first token) or an empty one."""
        if bucket is None:
            bucket = TokenBucket(self.config.pair_rate_per_6s / 6.0, self.config.pair_burst, now)
            self._pairs[(phone_number_id, recipient)] = bucket
            self._since_prune += 1
            if self._since_prune >= self._PRUNE_EVERY:
                self._prune(now)
            if bucket.take(now):
                return
        raise GraphError(
            131056,
            "Message failed to send because there were too many messages sent from this phone number to the "
            "same phone number in a short period of time.",
        )

    def reach_key(self, phone_number_id: str) -> str:
        """Whose limit a number's business-initiated messages count against: its portfolio, or its WABA."""
        number = self.numbers.get(phone_number_id)
        if number is None:
            return phone_number_id
        return number.portfolio_id if self.config.reach_scope == "portfolio" else number.waba_id

    def tier_of(self, key: str) -> str:
        scaling = self._scaling.get(key)
        return scaling.tier if scaling is not None else self.config.tier

    def check_reach(self, key: str, user: str, now: float) -> None:
        """A business-initiated message (outside the customer window) counts one unique user for the portfolio
        (or WABA) ``key`` (see ``reach_key``)."""
        if not self.config.enabled:
            return
        window = self._reach.get(key)
        if window is None:
            window = self._reach[key] = ReachWindow()
        scaling = self._scaling.get(key)
        if scaling is None:
            scaling = self._scaling[key] = Scaling(self.config.tier, now)
        elif self.config.auto_scale and now - scaling.last_eval >= self.config.scale_every_s:
            self._evaluate(key, scaling, now)
        if not window.admit(user, now, TIERS[scaling.tier]):
            raise GraphError(
                self.config.tier_error_code,
                f"Business-initiated messaging limit reached: {scaling.tier} unique users in 24 hours for "
                f"{self.config.reach_scope} {key}.",
            )
        if self.config.auto_scale:
            scaling.note(len(window), now)

    def _evaluate(self, key: str, scaling: Scaling, now: float) -> None:
        """Every ``scale_every_s``: one tier up when the peak 24 h reach of the window reached the share."""
        scaling.last_eval = now
        oldest = now // DAY_S - self.config.scale_window_days
        while scaling.peaks and scaling.peaks[0][0] <= oldest:
            scaling.peaks.popleft()
        limit = TIERS[scaling.tier]
        if limit is None or not scaling.peaks:
            return
        if max(peak for _, peak in scaling.peaks) < self.config.scale_share * limit:
            return
        old, scaling.tier = scaling.tier, TIER_ORDER[TIER_ORDER.index(scaling.tier) + 1]
        scaling.peaks.clear()
        if self.on_event is not None:
            self.on_event("messaging_limit_upgraded", {self.config.reach_scope: key, "old": old, "new": scaling.tier})

    def unlimited_numbers(self, key: str) -> list[str]:
        """The numbers counted under ``key`` (their portfolio or WABA), for the throughput upgrade."""
        return [number_id for number_id in self.numbers if self.reach_key(number_id) == key]

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
