"""When a failed webhook POST is tried again (reference §5.2).

Meta: "delivery is retried immediately, then a few more times with decreasing frequency over the next 7 days…
Unacknowledged responses will be dropped after 7 days." The exact schedule is not published, so we use a
plausible one: immediately, then after 15 s, 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 16 h, then daily,
until 7 days after the first attempt. ``time_compression`` divides every delay and the horizon, so a test with
compression 10080 sees the whole 7-day curve in one minute.
"""

from __future__ import annotations

META_RETRY_DELAYS_S = (0.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 57600.0)
DAILY_S = 86400.0


class RetryPolicy:
    def __init__(self, *, time_compression: float = 1.0, horizon_s: float = 7 * DAILY_S) -> None:
        if time_compression < 1.0:
            raise ValueError(f"time_compression must be >= 1, got {time_compression}")
        self.compression = time_compression
        self.horizon_s = horizon_s / time_compression

    def delay_before(self, retry: int) -> float:
        """Seconds to wait after failed attempt ``retry - 1`` before retry number ``retry`` (1-based)."""
        if retry < 1:
            raise ValueError(f"retry numbers start at 1, got {retry}")
        base = META_RETRY_DELAYS_S[retry - 1] if retry <= len(META_RETRY_DELAYS_S) else DAILY_S
        return base / self.compression

    def next_at(self, *, first_attempt_at: float, failed_attempt: int, now: float) -> float | None:
        """Monotonic time of the next try after attempt ``failed_attempt`` (0-based) failed, or None: drop it."""
        at = now + self.delay_before(failed_attempt + 1)
        if at - first_attempt_at > self.horizon_s:
            return None
        return at

    def schedule(self) -> list[float]:
        """Offsets from the first attempt of every retry within the horizon, assuming instant failures."""
        offsets: list[float] = []
        at, retry = 0.0, 1
        while True:
            at += self.delay_before(retry)
            if at > self.horizon_s:
                return offsets
            offsets.append(at)
            retry += 1
