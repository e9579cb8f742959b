"""ground.heap: settle_heap, reclaim and the HeapKeeper freeze the collector's survivors and give them back."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator

import pytest

from ground.heap import HeapKeeper, reclaim, settle_heap


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    # The test process must not keep anything frozen: pytest's own cycles would never be collected.
    yield
    gc.unfreeze()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_settle_heap_freezes_the_survivors_and_a_later_collection_skips_them() -> None:
    gc.unfreeze()
    frozen = settle_heap()
    assert frozen == gc.get_freeze_count() > 1000  # every module and class of the test process
    assert sum(gc.get_count()) < 1000  # the generations start empty again


def test_reclaim_collects_a_cycle_that_died_while_frozen() -> None:
    gc.unfreeze()
    cycle = _Cycle()
    settle_heap()  # the cycle is alive here: frozen with the rest
    del cycle  # now garbage, but frozen objects are never collected...
    assert gc.collect() == 0
    assert reclaim() >= 1  # ...until reclaim unfreezes and collects it
    assert gc.get_freeze_count() > 0  # the survivors are frozen again


def test_the_keeper_freezes_new_survivors_every_interval_and_stops() -> None:
    gc.unfreeze()
    keeper = HeapKeeper(interval_s=0.01).start()
    try:
        before = gc.get_freeze_count()
        survivors = [_Cycle() for _ in range(500)]
        deadline = time.monotonic() + 10
        while keeper.freezes < 2 and time.monotonic() < deadline:  # bounded wait for the thread's next freezes
            time.sleep(0.01)
        assert keeper.freezes >= 2
        assert gc.get_freeze_count() >= before + len(survivors)
    finally:
        keeper.stop()
    assert keeper._thread is None


def test_a_keeper_needs_a_positive_interval() -> None:
    with pytest.raises(ValueError, match="interval_s must be positive"):
        HeapKeeper(interval_s=0)
