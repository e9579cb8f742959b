"""Keep Locust's own statistics bounded on long runs.

Locust keeps, per stats entry, a request and a failure count for every second of the run
(``num_reqs_per_sec``), and appends a chart point to ``stats.history`` every 5 s, for the whole run: on an
hour's soak that is most of the Locust process's memory growth. scrmbench records every request itself
(``harness.recorder``) and reads from Locust only the live figures (current rate and percentiles over the
last few seconds), so only a recent window of those is kept. Workers send their per-second counts to the
master and reset them at every report, so this matters on the master and the local runner.
"""

from __future__ import annotations

from typing import Any

KEEP_SECONDS = 120  # per-second counts kept: Locust's current rate looks back about 12 s
KEEP_HISTORY = 120  # chart points kept (10 minutes at Locust's 5 s): only Locust's own web UI draws them


def trim_stats(stats: Any, now: float, *, keep_s: int = KEEP_SECONDS, keep_history: int = KEEP_HISTORY) -> int:
    """Drop per-second counts older than ``keep_s`` and all but the last ``keep_history`` chart points; returns
    how many per-second counts were dropped."""
    oldest = int(now) - keep_s
    dropped = 0
    for entry in (*stats.entries.values(), stats.total):
        for per_second in (entry.num_reqs_per_sec, entry.num_fail_per_sec):
            old = [second for second in per_second if second < oldest]
            for second in old:
                del per_second[second]
            dropped += len(old)
    if len(stats.history) > keep_history:
        del stats.history[: len(stats.history) - keep_history]
    return dropped
