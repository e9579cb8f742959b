"""Locust's per-second counts and chart history stay bounded on long runs.

Locust itself is not imported here (it must monkey-patch the standard library first); the stand-in has the
attributes ``trim_stats`` touches, with Locust's names and types.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from harness.loadgen.stats_trim import trim_stats


@dataclass
class Entry:
    num_requests: int = 0
    num_reqs_per_sec: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    num_fail_per_sec: dict[int, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class Stats:
    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)
    total: Entry = field(default_factory=Entry)
    history: list[dict[str, Any]] = field(default_factory=list)


def test_an_hours_per_second_counts_and_history_are_cut_to_a_recent_window() -> None:
    start = 1_800_000_000
    stats = Stats(entries={("send_text", "POST"): Entry()})
    entry = stats.entries[("send_text", "POST")]
    for second in range(start, start + 3600):  # an hour at 20 requests a second, one in ten failing
        for counted in (entry, stats.total):
            counted.num_requests += 20
            counted.num_reqs_per_sec[second] += 20
            counted.num_fail_per_sec[second] += 2
        if second % 5 == 0:
            stats.history.append({"time": str(second)})
    dropped = trim_stats(stats, start + 3600, keep_s=120, keep_history=120)
    assert dropped == 2 * 2 * (3600 - 120)  # requests and failures, of the entry and the total
    for counted in (entry, stats.total):
        assert sorted(counted.num_reqs_per_sec) == list(range(start + 3600 - 120, start + 3600))
        assert sorted(counted.num_fail_per_sec) == list(range(start + 3600 - 120, start + 3600))
        assert counted.num_requests == 72_000  # the run's totals are not per-second counts: untouched
    assert len(stats.history) == 120 and stats.history[-1] == {"time": str(start + 3595)}
    assert trim_stats(stats, start + 3600, keep_s=120, keep_history=120) == 0  # nothing left to drop
