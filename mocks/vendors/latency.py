"""The injected API latency (the `calibrated` profile's truth): one seeded draw, and the distribution's quantiles.

``sample_ms`` is what the vendor waits before handling an /api/ request; ``quantile_ms`` is the figure a draw stays
below with the given probability, computed from the settings alone, so a test can compare what the vendor
realised with what it was told to inject.
"""

from __future__ import annotations

import math
import random
from statistics import NormalDist

from mocks.vendors.settings import LatencySettings


def _lognormal_params(latency: LatencySettings) -> tuple[float, float]:
    """(mu, sigma) of the logarithm, for a lognormal whose *result* has ``mean_ms`` and ``stddev_ms``."""
    mean, std = max(latency.mean_ms, 1e-9), latency.stddev_ms
    sigma2 = math.log(1 + (std / mean) ** 2)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


def sample_ms(latency: LatencySettings, rng: random.Random) -> float:
    """One draw of the injected latency, never negative."""
    if latency.distribution == "fixed":
        value = latency.ms
    elif latency.distribution == "uniform":
        value = rng.uniform(latency.min_ms, latency.max_ms)
    elif latency.distribution == "normal":
        value = rng.gauss(latency.mean_ms, latency.stddev_ms)
    else:
        mu, sigma = _lognormal_params(latency)
        value = rng.lognormvariate(mu, sigma)
    return max(0.0, value)


def quantile_ms(latency: LatencySettings, pct: float) -> float:
    """The injected distribution's ``pct``-th percentile (0 < pct < 100) in ms, as ``sample_ms`` draws it."""
    if not 0 < pct < 100:
        raise ValueError(f"percentile {pct} must be strictly between 0 and 100")
    q = pct / 100.0
    if latency.distribution == "fixed":
        return latency.ms
    if latency.distribution == "uniform":
        return latency.min_ms + q * (latency.max_ms - latency.min_ms)
    if latency.distribution == "normal":
        if latency.stddev_ms == 0:
            return max(0.0, latency.mean_ms)
        return max(0.0, NormalDist(latency.mean_ms, latency.stddev_ms).inv_cdf(q))  # clamped at 0 like a draw
    mu, sigma = _lognormal_params(latency)
    return math.exp(mu + sigma * NormalDist().inv_cdf(q)) if sigma > 0 else math.exp(mu)
