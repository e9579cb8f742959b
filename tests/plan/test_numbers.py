"""The spread of a run's sends over a profile's business numbers (plan.numbers): exact shares per cycle, interleaved,
workers taking turns, the same numbers for the same seed, bounds refused."""

from __future__ import annotations

from collections import Counter
from typing import Any, cast

import pytest

from plan.numbers import MAX_NUMBERS, MAX_WEIGHT, BusinessNumber, NumberSpread, seeded_offset, spread_cycle


def numbers(count: int, weights: list[int] | None = None) -> list[BusinessNumber]:
    weights = weights or [1] * count
    return [BusinessNumber(f"+1555000{i:04d}", str(100 + i), weights[i]) for i in range(count)]


def test_equal_weights_are_plain_round_robin() -> None:
    spread = NumberSpread(numbers(5), seed=0)
    start = spread.pick(0).id
    picked = [spread.pick(k).id for k in range(10)]
    assert picked[:5] == picked[5:] and sorted(picked[:5]) == [str(100 + i) for i in range(5)]
    assert picked[0] == start


def test_weights_give_exact_shares_in_every_cycle_and_interleave() -> None:
    cycle = spread_cycle([5, 1, 1])
    assert Counter(cycle) == {0: 5, 1: 1, 2: 1}
    assert cycle == (0, 0, 1, 0, 2, 0, 0)  # smooth: the heavy number never takes all of its turns at once
    spread = NumberSpread(numbers(3, [5, 1, 1]), seed=3)
    shares = Counter(spread.pick(k).id for k in range(7 * 40))
    assert shares == {"100": 200, "101": 40, "102": 40}


def test_workers_take_turns_so_together_they_walk_the_cycle() -> None:
    pool = numbers(4, [3, 1, 2, 1])
    workers = [NumberSpread(pool, seed=9, worker_index=w, worker_count=3) for w in range(3)]
    together = Counter(workers[w].pick(k).id for k in range(70) for w in range(3))  # 210 sends = 30 cycles
    assert together == {"100": 90, "101": 30, "102": 60, "103": 30}
    alone = [workers[0].pick(k).id for k in range(7)]
    assert alone != [workers[1].pick(k).id for k in range(7)]  # not every worker on the same number at once


def test_the_same_seed_gives_the_same_numbers_and_another_seed_another_start() -> None:
    pool = numbers(50)
    first = [NumberSpread(pool, seed=11).pick(k).id for k in range(100)]
    assert first == [NumberSpread(pool, seed=11).pick(k).id for k in range(100)]
    starts = {seeded_offset(seed, 50) for seed in range(20)}
    assert len(starts) > 5  # runs with different seeds start on different numbers


@pytest.mark.parametrize(
    ("weights", "count", "message"),
    [
        ([], 0, "at least one"),
        ([0], 1, "weights"),
        ([MAX_WEIGHT + 1], 1, "weights"),
    ],
)
def test_bad_spreads_are_refused(weights: list[int], count: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NumberSpread(numbers(count, weights) if count else [])


def test_too_many_numbers_or_a_worker_outside_the_pool_are_refused() -> None:
    with pytest.raises(ValueError, match=f"at most {MAX_NUMBERS}"):
        NumberSpread(numbers(MAX_NUMBERS + 1))
    with pytest.raises(ValueError, match="worker 3 of 3"):
        NumberSpread(numbers(2), worker_index=3, worker_count=3)


def test_the_customer_spread_keeps_a_customer_on_one_number_with_shares_near_the_weights() -> None:
    pool = numbers(3, [5, 1, 1])
    spread = NumberSpread(pool, seed=4, spread="customer")
    customers = [f"49151{i:07d}" for i in range(7000)]
    first = {c: spread.pick_for(c, k).id for k, c in enumerate(customers)}
    assert all(spread.pick_for(c, 99).id == first[c] for c in customers[:500])  # whatever the call's turn
    other_worker = NumberSpread(pool, seed=4, worker_index=1, worker_count=2, spread="customer")
    assert all(other_worker.pick_for(c, 3).id == first[c] for c in customers[:500])
    shares = Counter(first.values())
    assert abs(shares["100"] / 7000 - 5 / 7) < 0.03 and abs(shares["101"] / 7000 - 1 / 7) < 0.03
    reseeded = NumberSpread(pool, seed=5, spread="customer")
    moved = sum(reseeded.pick_for(c, 0).id != first[c] for c in customers)
    assert moved > 1000  # another seed deals the customers anew


def test_the_round_robin_spread_ignores_the_customer() -> None:
    spread = NumberSpread(numbers(4), seed=2, spread="round_robin")
    assert [spread.pick_for("4915100000001", k).id for k in range(8)] == [spread.pick(k).id for k in range(8)]


def test_an_unknown_spread_is_refused() -> None:
    with pytest.raises(ValueError, match="customer, round_robin"):
        NumberSpread(numbers(2), spread=cast(Any, "random"))
