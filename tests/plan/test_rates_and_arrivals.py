"""The open model's schedule: counts, spacing, division across workers, reproducibility, shapes."""

from __future__ import annotations

import itertools

import pytest

from plan.arrivals import Arrival, WorkerShare, arrival_offsets
from plan.rates import (
    BUSINESS_SHARE,
    BusinessDayRate,
    ConstantRate,
    RampingRate,
    Stage,
    SteppedRate,
    business_hours_share,
    spike_shape,
)


def test_constant_rate_gives_exact_count_and_even_spacing() -> None:
    offsets = list(arrival_offsets(ConstantRate(rate=10, duration_s=10)))
    assert len(offsets) == 100
    gaps = {round(b - a, 6) for a, b in itertools.pairwise(offsets)}
    assert gaps == {0.1}
    assert offsets[0] == pytest.approx(0.05)


@pytest.mark.parametrize("workers", [2, 3, 5])
def test_constant_schedule_split_across_workers_unions_to_the_single_schedule(workers: int) -> None:
    profile = ConstantRate(rate=37, duration_s=4)
    single = list(arrival_offsets(profile))
    parts = [list(arrival_offsets(profile, share=WorkerShare(i, workers))) for i in range(workers)]
    merged = sorted(x for part in parts for x in part)
    assert merged == pytest.approx(single)
    assert max(len(p) for p in parts) - min(len(p) for p in parts) <= 1


def test_poisson_is_reproducible_per_seed_and_differs_between_workers_and_seeds() -> None:
    profile = ConstantRate(rate=200, duration_s=20)
    first = list(arrival_offsets(profile, Arrival.POISSON, seed=7))
    again = list(arrival_offsets(profile, Arrival.POISSON, seed=7))
    other_seed = list(arrival_offsets(profile, Arrival.POISSON, seed=8))
    assert first == again
    assert first != other_seed
    w0 = list(arrival_offsets(profile, Arrival.POISSON, share=WorkerShare(0, 2), seed=7))
    w1 = list(arrival_offsets(profile, Arrival.POISSON, share=WorkerShare(1, 2), seed=7))
    assert w0[:5] != w1[:5]
    # 4000 expected; a Poisson count's standard deviation is about 63, so 5 sigma is 316.
    assert abs(len(first) - 4000) < 316
    assert abs(len(w0) + len(w1) - 4000) < 316


def test_poisson_gaps_have_exponential_spread() -> None:
    offsets = list(arrival_offsets(ConstantRate(rate=100, duration_s=50), Arrival.POISSON, seed=3))
    gaps = [b - a for a, b in itertools.pairwise(offsets)]
    mean = sum(gaps) / len(gaps)
    variance = sum((g - mean) ** 2 for g in gaps) / len(gaps)
    assert mean == pytest.approx(0.01, rel=0.1)
    # Exponential: coefficient of variation 1 (evenly spaced arrivals would give 0).
    assert variance**0.5 / mean == pytest.approx(1.0, rel=0.15)


def test_ramping_stage_count_is_the_area_under_the_ramp() -> None:
    profile = RampingRate(start=0, stages=(Stage(10, 20), Stage(10, 20)))
    assert profile.duration_s == 20
    assert profile.rate_at(5) == pytest.approx(10)
    offsets = list(arrival_offsets(profile))
    assert len(offsets) == 100 + 200  # triangle 0→20 over 10 s, then 20/s for 10 s
    first_half = [x for x in offsets if x < 10]
    assert len(first_half) == 100
    # Denser towards the end of the ramp.
    assert len([x for x in first_half if x >= 5]) > 2 * len([x for x in first_half if x < 5])


def test_stepped_rate_levels_and_counts() -> None:
    profile = SteppedRate(start=10, step=10, step_duration_s=5, steps=4)
    assert [profile.rate_at(t) for t in (0, 5, 12, 19.9, 20)] == [10, 20, 30, 40, 0]
    offsets = list(arrival_offsets(profile))
    per_step = [len([x for x in offsets if 5 * i <= x < 5 * (i + 1)]) for i in range(4)]
    assert per_step == [50, 100, 150, 200]


def test_spike_shape_ramps_holds_spikes_and_recovers() -> None:
    shape = spike_shape(base=10, spike=50, ramp_s=5, hold_s=5, spike_s=5, recover_s=5)
    assert shape.duration_s == 20
    assert [shape.rate_at(t) for t in (2.5, 7, 10, 14.9, 15, 19)] == pytest.approx([5, 10, 50, 50, 10, 10])
    offsets = list(arrival_offsets(shape))
    assert len([x for x in offsets if 10 <= x < 15]) == 250


def test_business_day_curve_has_72_percent_in_business_hours_and_peaks_monday_10() -> None:
    shape = BusinessDayRate(peak_rate=50, duration_s=168 * 2)
    assert business_hours_share(shape.weights) == pytest.approx(BUSINESS_SHARE)
    assert shape.peak_hour == 10
    assert shape.rate_at(10 * 2 + 1) == pytest.approx(50)
    offsets = list(arrival_offsets(shape))
    assert len(offsets) == pytest.approx(shape.expected_count(), abs=2)
    in_business = [x for x in offsets if (h := shape.hour_of(x)) // 24 < 5 and 9 <= h % 24 < 18]
    assert len(in_business) / len(offsets) == pytest.approx(0.72, abs=0.01)


def test_worker_share_bounds() -> None:
    with pytest.raises(ValueError, match="worker index 2"):
        WorkerShare(2, 2)
