"""Check a harness's measured latency against the reference vendor's own clock, request by request.

The `calibrated` profile injects a known latency distribution and the vendor times every request itself
(``timing.py``). For a run against it (driven by ``bench/_calibrated_trial.py``: a mock never runs the harness):

1. ``fetch_timings`` reads the vendor's rows (GET /_vendor/timings, paged, bounded);
2. ``join`` pairs each successful request record with the vendor row carrying the same correlation token, and
   refuses a join that does not cover both sides (a record the vendor never served, or an accepted send the
   records lack, is itself a measurement error);
3. ``compare`` checks the harness's nearest-rank p50/p95/p99 against the vendor's realised ones over the same
   requests: each within 5% or 2 ms (whichever is larger), and no single request measured faster than the
   vendor served it (a client's span contains the server's);
4. ``injection_checks`` checks the vendor did what it was told: the draws follow the configured distribution
   (the share of draws below each of its quantiles is inside a binomial band) and the realised service time is
   never below the draw and close to it (a broken injection fails here, not in the harness's comparison).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ground.stats import percentile
from mocks.vendors.latency import quantile_ms
from mocks.vendors.settings import LatencySettings
from mocks.vendors.timing import MAX_PAGE

PERCENTILES = (50.0, 95.0, 99.0)
REL_TOLERANCE = 0.05  # issue 6: within 5% ...
ABS_TOLERANCE_MS = 2.0  # ... or 2 ms
FLOOR_EPSILON_MS = 0.001  # float rounding between two processes reading the same monotonic clock
BINOMIAL_SIGMAS = 4.5  # the injection check's band: loose, yet a wrong distribution misses it by far
REALISED_REL = 0.10  # the vendor's own overhead over its draw, at each percentile: within 10% or 5 ms
REALISED_ABS_MS = 5.0
MAX_PAGES = 1_000


@dataclass(frozen=True)
class Joined:
    """Per request, in the same order: the harness's latency, the vendor's realised time, the injected draw."""

    correlation_ids: tuple[str, ...]
    harness_ms: tuple[float, ...]
    vendor_ms: tuple[float, ...]
    injected_ms: tuple[float | None, ...]

    def __len__(self) -> int:
        return len(self.correlation_ids)


@dataclass(frozen=True)
class Check:
    name: str
    measured: float
    truth: float
    allowed: float  # the largest |measured - truth| that passes (a floor check: the largest shortfall)
    ok: bool
    unit: str = "ms"

    @property
    def ratio(self) -> float:
        return self.measured / self.truth if self.truth else math.inf

    def line(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        u = self.unit
        ratio = f", ratio {self.ratio:.3f}" if self.truth else ""
        return (
            f"{self.name}: {self.measured:.2f} vs {self.truth:.2f} {u} ({self.measured - self.truth:+.2f} {u}"
            f"{ratio}, allowed ±{self.allowed:.2f} {u}) {verdict}"
        )


def fetch_timings(base_url: str, api_key: str, *, client: httpx.Client | None = None) -> list[dict[str, Any]]:
    """Every row the vendor still holds, oldest first; raises if its buffer already evicted some."""
    rows: list[dict[str, Any]] = []
    after = 0
    own = client is None
    http = client or httpx.Client(timeout=10.0)
    try:
        for _ in range(MAX_PAGES):
            answer = http.get(
                f"{base_url.rstrip('/')}/_vendor/timings",
                params={"after": after, "limit": MAX_PAGE},
                headers={"Authorization": f"Bearer {api_key}"},
            )
            answer.raise_for_status()
            page = answer.json()
            if page["evicted"]:
                raise ValueError(
                    f"the vendor's timing log evicted {page['evicted']} rows (capacity {page['capacity']}): "
                    "raise --set timings_capacity=N or run shorter"
                )
            rows += page["rows"]
            after = int(page["last_id"])
            if not page["more"]:
                return rows
        raise ValueError(f"more than {MAX_PAGES} pages of timings at {base_url}")
    finally:
        if own:
            http.close()


def join(records: Iterable[Mapping[str, Any]], rows: Iterable[Mapping[str, Any]]) -> Joined:
    """Successful request records (``outcome == "ok"``) paired with the vendor's 2xx rows by correlation token.

    Both sides must match one to one: ``ValueError`` names what is missing on either side.
    """
    served: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        token = row.get("correlation_id")
        if token and 200 <= int(row["status"]) < 300:
            if token in served:
                raise ValueError(f"the vendor served correlation token {token} twice")
            served[token] = row
    ids: list[str] = []
    seen: set[str] = set()
    harness: list[float] = []
    for record in records:
        if record.get("outcome") != "ok" or not record.get("correlation_id"):
            continue
        token = str(record["correlation_id"])
        if token in seen:
            raise ValueError(f"the harness recorded correlation token {token} twice")
        seen.add(token)
        ids.append(token)
        harness.append(float(record["latency_ms"]))
    missing = [token for token in ids if token not in served]
    if missing:
        raise ValueError(f"{len(missing)} successful records have no vendor row, e.g. {missing[:3]}")
    unrecorded = sorted(set(served) - seen)
    if unrecorded:
        raise ValueError(f"{len(unrecorded)} sends the vendor accepted are not in the records, e.g. {unrecorded[:3]}")
    vendor = [float(served[token]["dur_ms"]) for token in ids]
    injected = [served[token].get("injected_ms") for token in ids]
    return Joined(tuple(ids), tuple(harness), tuple(vendor), tuple(None if v is None else float(v) for v in injected))


def nearest_rank(values: Sequence[float], pct: float) -> float:
    value = percentile(list(values), pct)
    if value is None:
        raise ValueError("no values to take a percentile of")
    return value


def tolerance(truth: float, rel: float = REL_TOLERANCE, abs_ms: float = ABS_TOLERANCE_MS) -> float:
    return max(rel * abs(truth), abs_ms)


def compare(
    measured: Sequence[float], truth: Sequence[float], percentiles: Sequence[float] = PERCENTILES
) -> list[Check]:
    """The harness (``measured``) against the vendor (``truth``), same requests in the same order.

    One check per percentile (within 5% or 2 ms), then ``floor``: the largest amount by which any request was
    measured *faster* than the vendor served it, which must be nil.
    """
    if len(measured) != len(truth) or not measured:
        raise ValueError(f"need the same requests on both sides, got {len(measured)} and {len(truth)}")
    checks = []
    for pct in percentiles:
        m, t = nearest_rank(measured, pct), nearest_rank(truth, pct)
        checks.append(Check(f"p{pct:g}", m, t, tolerance(t), abs(m - t) <= tolerance(t)))
    shortfall = max(t - m for m, t in zip(measured, truth, strict=True))
    floor = max(0.0, shortfall)
    checks.append(Check("floor (largest vendor - harness)", floor, 0.0, FLOOR_EPSILON_MS, floor <= FLOOR_EPSILON_MS))
    return checks


def _binomial_check(draws: Sequence[float], latency: LatencySettings, pct: float) -> Check:
    """The share of draws at or below the distribution's ``pct`` quantile, against ``pct`` (a binomial band)."""
    n = len(draws)
    q = pct / 100.0
    below = sum(value <= quantile_ms(latency, pct) for value in draws)
    band = (BINOMIAL_SIGMAS * math.sqrt(n * q * (1 - q)) + 1) / n
    share = below / n
    return Check(f"injected share <= q{pct:g}", share * 100, pct, band * 100, abs(share - q) <= band, unit="%")


def injection_checks(joined: Joined, latency: LatencySettings) -> list[Check]:
    """Did the vendor inject what it was configured to, and realise it? (Nothing here involves the harness.)"""
    if any(value is None for value in joined.injected_ms):
        raise ValueError("some vendor rows carry no injected_ms: is the vendor running the calibrated profile?")
    draws = [float(v) for v in joined.injected_ms if v is not None]
    checks = [_binomial_check(draws, latency, pct) for pct in PERCENTILES]
    for pct in PERCENTILES:
        realised, drawn = nearest_rank(joined.vendor_ms, pct), nearest_rank(draws, pct)
        allowed = tolerance(drawn, REALISED_REL, REALISED_ABS_MS)
        checks.append(Check(f"realised p{pct:g} vs drawn", realised, drawn, allowed, abs(realised - drawn) <= allowed))
    shortfall = max(0.0, max(d - r for d, r in zip(draws, joined.vendor_ms, strict=True)))
    checks.append(
        Check(
            "realised floor (largest draw - realised)", shortfall, 0.0, FLOOR_EPSILON_MS, shortfall <= FLOOR_EPSILON_MS
        )
    )
    return checks


def worst_ratio(checks: Iterable[Check]) -> float:
    """The percentile check farthest from 1 (as measured ÷ truth), for the benchmark's last line."""
    ratios = [c.ratio for c in checks if c.name.startswith("p")]
    return max(ratios, key=lambda r: abs(r - 1.0))
