"""One start for every worker: the master chooses it, sends it with the spawn message, and each worker's
schedule counts from it (scheduled_at = start + offset on both workers)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.loadgen.start import START_OPTION, choose_start, shared_start
from harness.recorder import read_requests
from harness.run.runner import execute
from tests.fixtures.runs import quiet_run_request


def test_the_start_is_chosen_once_and_renewed_only_for_a_new_test() -> None:
    options = SimpleNamespace()
    assert shared_start(options) is None
    start, new = choose_start(options, now=100.0, lead_s=3.0, renew=False)
    assert (start, new) == (103.0, True) and getattr(options, START_OPTION) == 103.0
    assert choose_start(options, now=101.0, lead_s=3.0, renew=False) == (103.0, False)  # later ticks keep it
    assert choose_start(options, now=500.0, lead_s=1.0, renew=True) == (501.0, True)  # a new test, a new start


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_two_workers_count_their_schedules_from_the_same_start(tmp_path: Path) -> None:
    rate = 12.0
    request = quiet_run_request(
        tmp_path,
        "broadcast",
        overrides={"recipients": 36, "rate": rate, "live_share": 0.0, "drain_s": 1, "pool_size": 30},
        workers=2,
        seed=5,
    )
    run_dir = execute(request).run_dir
    start = json.loads((run_dir / "load-start-p0.json").read_text())
    assert start["workers"] == 2
    requests = read_requests(run_dir).to_pandas()
    first = requests.groupby("worker")["scheduled_at"].min().to_dict()
    assert set(first) == {"worker-0", "worker-1"}, first
    # Constant arrivals split by alternating slots: worker 0 has slot 0 (half a gap after the start), worker 1
    # slot 1. Each worker started its own clock before; now both equal the shared start to float precision.
    assert first["worker-0"] == pytest.approx(start["start_at"] + 0.5 / rate, abs=1e-6)
    assert first["worker-1"] == pytest.approx(start["start_at"] + 1.5 / rate, abs=1e-6)
    # And the whole union is the single-worker schedule: slot k at start + (k + 0.5) / rate.
    offsets = sorted((requests["scheduled_at"] - start["start_at"]).tolist())
    assert offsets == pytest.approx([(k + 0.5) / rate for k in range(36)], abs=1e-3)
