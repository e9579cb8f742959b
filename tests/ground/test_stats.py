"""The one nearest-rank percentile (ground.stats), which analysis, the harness's health figures and the reference
vendor's timing check all use."""

from __future__ import annotations

import math
import random

from analysis.stats import percentile as array_percentile
from ground.stats import percentile, rank_index
from harness.health import percentile as health_percentile


def test_nearest_rank_is_a_value_of_the_sample_at_rank_ceil_p_n() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 95.0) == 95.0
    assert percentile(values, 50.0) == 50.0
    assert percentile(values, 99.9) == 100.0
    assert percentile(values, 0.0) == 1.0  # rank 1 for p = 0
    assert percentile([7.0, 3.0, 5.0], 50.0) == 5.0  # unsorted input
    assert rank_index(20, 95.0) == 18  # 0.95 · 20 is 19 however the float rounds


def test_empty_and_nan_only_samples_have_no_percentile() -> None:
    assert percentile([], 50.0) is None
    assert percentile([math.nan, math.nan], 50.0) is None
    assert percentile([math.nan, 4.0, 2.0], 100.0) == 4.0


def test_the_numpy_form_and_the_health_form_agree_with_it() -> None:
    rng = random.Random(16)
    for size in (1, 2, 19, 20, 101, 997):
        values = [rng.expovariate(1 / 80.0) for _ in range(size)]
        for pct in (0.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0):
            expected = percentile(values, pct)
            assert array_percentile(values, pct) == expected
            assert health_percentile(values, pct / 100.0) == expected
