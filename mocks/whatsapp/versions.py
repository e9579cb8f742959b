"""Graph API versions as Meta runs them in late 2026 (docs/whatsapp-2026.md, "Versions").

- A released version that has not expired is served as asked.
- An expired version is not refused: Meta's versioning rule is that "once a version is no longer usable, any calls
  made to it will be defaulted to the next oldest, usable version" (Platform Versioning guide), so the call is
  served by the oldest version still usable on the mock's date, and the first such call of each version is noted
  in the event log (``expired_version_served``): a vendor still pinned to v20.0 shows up in the trial's record.
- Anything else (``v99.0``, ``v25.3``, a version released after the mock's date) is unknown: Graph's
  ``Unknown path components`` error (code 100, HTTP 400).
- No version prefix is served by the newest usable version (for Meta: the app's dashboard setting).

``versions.enforce: false`` in the mock config restores the old behaviour (any ``vNN.N`` accepted as is).
A version's answer is resolved once per day (a dict lookup on every later call of that day).
"""

from __future__ import annotations

import datetime as dt
import re

from mocks.whatsapp.errors import GraphError

_DAY_S = 86_400

# (major, minor) -> (released, expires or None for "TBD"). Meta's changelog
# (https://developers.facebook.com/docs/graph-api/changelog/versions/), the locale copies that list v26.0.
GRAPH_VERSIONS: dict[tuple[int, int], tuple[dt.date, dt.date | None]] = {
    (16, 0): (dt.date(2023, 2, 2), dt.date(2025, 5, 14)),
    (17, 0): (dt.date(2023, 5, 23), dt.date(2025, 9, 12)),
    (18, 0): (dt.date(2023, 9, 12), dt.date(2026, 1, 26)),
    (19, 0): (dt.date(2024, 1, 23), dt.date(2026, 5, 21)),
    (20, 0): (dt.date(2024, 5, 21), dt.date(2026, 9, 24)),
    (21, 0): (dt.date(2024, 10, 2), dt.date(2027, 1, 21)),
    (22, 0): (dt.date(2025, 1, 21), dt.date(2027, 5, 20)),
    (23, 0): (dt.date(2025, 5, 29), dt.date(2027, 10, 8)),
    (24, 0): (dt.date(2025, 10, 8), dt.date(2028, 2, 18)),
    (25, 0): (dt.date(2026, 2, 18), dt.date(2028, 7, 29)),
    (26, 0): (dt.date(2026, 7, 29), None),
}
# Versions that existed before v16.0 and expired long ago (same changelog): served by the oldest usable one.
HISTORIC: frozenset[tuple[int, int]] = frozenset(
    {(2, minor) for minor in range(13)} | {(3, minor) for minor in range(4)} | {(major, 0) for major in range(4, 16)}
)
NEWEST = max(GRAPH_VERSIONS)
_PATTERN = re.compile(r"v(\d{1,3})\.(\d{1,2})")


def label(version: tuple[int, int]) -> str:
    return f"v{version[0]}.{version[1]}"


def _day(date: dt.date) -> int:
    return (date - dt.date(1970, 1, 1)).days


_TABLE: dict[tuple[int, int], tuple[int, int | None]] = {
    key: (_day(released), None if expires is None else _day(expires))
    for key, (released, expires) in GRAPH_VERSIONS.items()
}


def unknown_version(text: str) -> GraphError:
    return GraphError(100, title=f"Unknown path components: /{text}", with_error_data=False)


class VersionPolicy:
    """Which version serves a call on a given day; ``today`` pins the date (else the clock's UTC date)."""

    def __init__(self, *, enforce: bool = True, today: dt.date | None = None) -> None:
        self.enforce = enforce
        self.pinned_day = None if today is None else _day(today)
        self._cached_day = -1
        self._oldest = self._newest = NEWEST
        self._served: dict[tuple[int, int], tuple[int, int]] = {}  # on ``_cached_day``: asked -> served
        self.fallbacks: dict[str, str] = {}  # requested -> served, for the versions that were redirected

    def _usable_on(self, day: int) -> None:
        usable = [key for key, (start, end) in _TABLE.items() if start <= day and (end is None or day < end)]
        self._oldest, self._newest = (min(usable), max(usable)) if usable else (NEWEST, NEWEST)
        self._cached_day = day
        self._served.clear()

    def serve(self, major: int, minor: int, now: float) -> tuple[int, int]:
        """The version serving a call to ``v{major}.{minor}`` at Unix time ``now``; GraphError when unknown.

        Resolved once per version and day (the answer depends on nothing else): every send asks. Unknown versions
        raise each time and are not remembered, so the memo holds at most the known and historic versions."""
        if not self.enforce:
            return (major, minor)
        day = self.pinned_day if self.pinned_day is not None else int(now // _DAY_S)
        if day != self._cached_day:
            self._usable_on(day)
        key = (major, minor)
        served = self._served.get(key)
        if served is None:
            served = self._served[key] = self._resolve(key, day)
        return served

    def _resolve(self, key: tuple[int, int], day: int) -> tuple[int, int]:
        dates = _TABLE.get(key)
        if dates is None:
            if key in HISTORIC:
                return self._oldest
            raise unknown_version(label(key))
        released, expires = dates
        if day < released:
            raise unknown_version(label(key))
        if expires is not None and day >= expires:
            return self._oldest
        return key

    def serve_text(self, version: str | None, now: float) -> tuple[int, int]:
        """The same for a ``vNN.N`` path segment, or None (no prefix: the newest usable version)."""
        if version is None:
            if self.enforce:
                day = self.pinned_day if self.pinned_day is not None else int(now // _DAY_S)
                if day != self._cached_day:
                    self._usable_on(day)
            return self._newest
        match = _PATTERN.fullmatch(version)
        if match is None:
            raise unknown_version(version)
        return self.serve(int(match[1]), int(match[2]), now)

    def newest(self, now: float) -> tuple[int, int]:
        return self.serve_text(None, now)
