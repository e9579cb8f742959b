"""The health sampler: what it writes, for which process and role, and how a run's health is read back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ground.clock import FakeClock
from ground.records import HEALTH_COLUMNS
from harness.health import (
    HEALTH_DIR,
    HEALTH_FILE,
    HealthSampler,
    merge_health,
    mock_rows,
    percentile,
    read_health,
)


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.95) is None
    assert percentile([5.0], 0.95) == 5.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 1.0) == 100.0


@pytest.fixture
def busy_child() -> subprocess.Popen[bytes]:
    """A child that spins for at most 20 s (bounded), so its CPU is real and well above zero."""
    code = "import time\nend = time.monotonic() + 20\nwhile time.monotonic() < end: pass\n"
    process = subprocess.Popen([sys.executable, "-c", code])
    yield process
    process.kill()
    process.wait(timeout=10)


def test_sampler_writes_machine_and_process_rows(tmp_path: Path, busy_child: subprocess.Popen[bytes]) -> None:
    clock = FakeClock()
    sampler = HealthSampler(tmp_path, clock=clock)
    sampler.watch("vendor", busy_child.pid, "candidate")
    import time

    time.sleep(0.5)  # let the spinning child use some CPU between the two readings psutil needs
    rows = sampler.sample_once()
    sampler.stop()
    by_metric = {(r[1], r[4]): r for r in rows}
    assert by_metric[("machine", "cores")][5] >= 1
    assert ("machine", "cpu_busy_pct") in by_metric
    assert ("machine", "mem_available_bytes") in by_metric
    vendor_cpu = by_metric[("vendor", "cpu_pct")]
    assert vendor_cpu[2] == "candidate" and vendor_cpu[3] == busy_child.pid
    assert vendor_cpu[5] > 20.0  # a busy loop: most of a core
    assert by_metric[("vendor", "rss_bytes")][5] > 0
    assert all(r[0] == clock.now() for r in rows)  # on the injected run clock
    table = read_health(tmp_path)
    assert table.num_rows == len(rows)
    assert tuple(table.schema.names) == HEALTH_COLUMNS


def test_unknown_role_is_refused(tmp_path: Path) -> None:
    sampler = HealthSampler(tmp_path)
    with pytest.raises(ValueError, match="unknown health role"):
        sampler.watch("x", 1, "vendor")
    sampler.stop()


def test_a_process_that_is_gone_is_skipped(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=10)
    sampler = HealthSampler(tmp_path)
    sampler.watch("gone", process.pid, "harness")
    rows = sampler.sample_once()
    sampler.stop()
    assert not [r for r in rows if r[1] == "gone"]


def test_mock_rows_take_the_mock_figures_and_each_shard() -> None:
    single = mock_rows(10.0, {"health": {"pid": 42, "loop_lag_ms_p95": 3.5, "service_ms_p95": None, "requests": 9}})
    assert {(r[1], r[4], r[5]) for r in single} == {("mock", "loop_lag_ms_p95", 3.5), ("mock", "requests", 9.0)}
    assert all(r[2] == "mock" and r[3] == 42 for r in single)
    sharded = mock_rows(
        10.0,
        {"health": {"loop_lag_ms_p95": 9}, "health_shards": [{"shard": 0, "loop_lag_ms_p95": 1}, {"shard": 1}]},
    )
    assert [(r[1], r[5]) for r in sharded] == [("mock-shard-0", 1.0)]


def test_mock_stats_are_polled_into_the_samples(tmp_path: Path) -> None:
    sampler = HealthSampler(tmp_path, mock_stats=lambda: {"health": {"loop_lag_ms_max": 250.0}})
    rows = sampler.sample_once()
    sampler.stop()
    assert ("mock", "loop_lag_ms_max", 250.0) in {(r[1], r[4], r[5]) for r in rows}


def test_merge_folds_shards_and_a_cut_run_stays_readable(tmp_path: Path) -> None:
    first = HealthSampler(tmp_path, name="runner")
    first.sample_once()
    first.stop()
    second = HealthSampler(tmp_path, name="local-gen")
    second.sample_once()
    second.stop()
    (tmp_path / HEALTH_DIR / ".runner-cut-000009.parquet.tmp").write_bytes(b"PAR1 half a file")
    before = read_health(tmp_path).num_rows  # a run cut short: shards only
    assert before > 0
    assert merge_health(tmp_path) == tmp_path / HEALTH_FILE
    assert not (tmp_path / HEALTH_DIR).exists()
    assert pq.read_table(tmp_path / HEALTH_FILE).num_rows == before
    assert read_health(tmp_path).num_rows == before
    assert merge_health(tmp_path) is None  # nothing left to fold
