"""The dispatcher hands slots to idle users at their time and counts the rest as dropped, on a FakeClock."""

from __future__ import annotations

from ground.clock import FakeClock
from harness.loadgen.dispatch import Dispatcher, Slot
from plan.arrivals import arrival_offsets
from plan.rates import ConstantRate


class CountingPool:
    def __init__(self, idle: int) -> None:
        self.idle_users = idle
        self.handed: list[Slot] = []

    def idle(self) -> int:
        return self.idle_users

    def hand(self, slot: Slot) -> None:
        self.idle_users -= 1
        self.handed.append(slot)

    def finish_one(self) -> None:
        self.idle_users += 1


def test_slots_are_released_only_when_due(fake_clock: FakeClock) -> None:
    pool = CountingPool(idle=100)
    start = fake_clock.now()
    dispatcher = Dispatcher(arrival_offsets(ConstantRate(10, 1)), start_at=start, pool=pool, on_dropped=lambda s: None)
    assert dispatcher.next_due_at() == start + 0.05
    assert dispatcher.release_due(fake_clock.now()) == []
    fake_clock.advance(0.30)
    handed = dispatcher.release_due(fake_clock.now())
    assert [s.sequence for s in handed] == [0, 1, 2]
    assert [round(s.scheduled_at - start, 3) for s in handed] == [0.05, 0.15, 0.25]
    fake_clock.advance(1.0)
    dispatcher.release_due(fake_clock.now())
    assert dispatcher.finished
    assert dispatcher.counts.handed == 10 and dispatcher.counts.dropped == 0


def test_a_stalled_pool_drops_slots_instead_of_starting_them_late(fake_clock: FakeClock) -> None:
    pool = CountingPool(idle=2)
    dropped: list[Slot] = []
    dispatcher = Dispatcher(
        arrival_offsets(ConstantRate(10, 2)), start_at=fake_clock.now(), pool=pool, on_dropped=dropped.append
    )
    # The system under test stalls: both users stay busy for the first second.
    fake_clock.advance(1.0)
    dispatcher.release_due(fake_clock.now())
    assert dispatcher.counts.handed == 2
    assert dispatcher.counts.dropped == 8
    assert [s.sequence for s in dropped] == list(range(2, 10))
    # The stall ends; users come back and the schedule carries on at its own pace.
    pool.finish_one()
    pool.finish_one()
    for _ in range(10):
        fake_clock.advance(0.1)
        dispatcher.release_due(fake_clock.now())
        pool.idle_users = 2
    assert dispatcher.counts.handed == 12
    assert dispatcher.counts.handed + dispatcher.counts.dropped == 20
    assert dispatcher.counts.max_lag_s > 0.9  # the first release came a second late
