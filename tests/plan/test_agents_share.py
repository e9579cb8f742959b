"""AgentsPlan's split of the agents over load processes and its shifts (harness.loadgen.agents runs them)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from plan.load import AgentsPlan


@given(
    first=st.integers(1, 60),
    second=st.integers(0, 60),
    workers=st.integers(1, 9),
)
def test_every_agent_runs_on_exactly_one_worker(first: int, second: int, workers: int) -> None:
    plan = AgentsPlan(first_shift=first, second_shift=second, shift_at_s=10.0)
    shares = [plan.indexes_on(index, workers) for index in range(workers)]
    flat = [agent for share in shares for agent in share]
    assert sorted(flat) == list(range(plan.total))  # no duplicate, no gap
    # Even: no worker simulates more than one agent more than another.
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_each_worker_gets_its_share_of_both_shifts_and_of_the_leavers() -> None:
    plan = AgentsPlan(first_shift=4, second_shift=2, leaving=2, shift_at_s=20.0)
    for worker in (0, 1):
        shifts = [plan.shift_of(i) for i in plan.indexes_on(worker, 2)]
        assert shifts.count((None, 20.0)) == 1  # one leaver each
        assert shifts.count((None, None)) == 1  # one staying first-shift agent each
        assert shifts.count((20.0, None)) == 1  # one second-shift agent each


def test_shifts_without_a_change_keep_everyone_online_from_the_start() -> None:
    plan = AgentsPlan(first_shift=3, second_shift=0, leaving=2, shift_at_s=None)
    assert [plan.shift_of(i) for i in range(3)] == [(None, None)] * 3


def test_a_worker_index_beyond_the_count_gets_no_agent_rather_than_a_duplicate() -> None:
    plan = AgentsPlan(first_shift=6)
    assert plan.indexes_on(2, 2) == [] and plan.indexes_on(-1, 2) == [] and plan.indexes_on(0, 0) == []
