"""Watching the harness, the mock and the candidate while a run goes: ``results/<run>/health.parquet``.

A figure measured on a saturated machine is about the machine, not the vendor. So every run samples, once a
second on the run clock, every process it started and the machine itself, and writes the samples in
``HEALTH_SCHEMA`` (harness/records.py, long format: ``at, source, role, pid, metric, value``):

    role harness    the runner, each Locust process (``local``, ``master``, ``worker-N``), the chaos proxy
    role mock       the mock WhatsApp API (and each of its shard processes: ``mock.1``, ``mock.2``, …)
    role candidate  each local candidate process (``vendor``, ``primary``, ``standby``, ``front``) or container
    role machine    the machine (``source = machine``, ``pid`` null)

Per process: ``cpu_pct`` (% of one core over the last interval; a multi-threaded process can pass 100),
``rss_bytes``, ``threads``, ``fds``. Machine: ``cpu_busy_pct`` (mean of the cores the run may use, its CPU
affinity: all of them unless confined), ``cpu_busy_pct_coreN`` and ``cores`` (those cores), ``run_queue``
(runnable processes of the whole machine, from /proc/stat), ``load1``, ``steal_pct``, ``mem_available_bytes``,
``disk_free_bytes`` (of the results folder's disk). The mock's own truth (its loop lag, service time and webhook
queue lag) is polled from ``/_mock/stats`` and written with ``role mock``; the Locust processes add their own loop
lag and schedule lateness (``harness.loadgen.health_probe``).

The samples go through a ``ShardSink`` into ``health/*.parquet`` (flushed every second, like the request shards:
a crash loses at most the last second); ``merge_health`` folds the shards into ``health.parquet`` at the end of
the run. Readers take both (``read_health``), so a run cut short is still readable. The sampler's own cost is a
few psutil reads a second (``bench/harness_ceiling.py`` prints it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from ground.clock import Clock, SystemClock
from ground.cores import usable_core_ids
from ground.records import HEALTH_COLUMNS, HEALTH_ROLES, HEALTH_SCHEMA
from ground.stats import percentile as nearest_rank
from harness.recorder import ShardSink, fold_shards

log = logging.getLogger(__name__)

HEALTH_DIR = "health"
HEALTH_FILE = "health.parquet"
INTERVAL_S = 1.0
MOCK_FIGURES = (
    "loop_lag_ms_p95",
    "loop_lag_ms_max",
    "service_ms_p95",
    "service_ms_max",
    "requests",
    "webhook_queue_lag_ms_p95",
    "webhook_queue_lag_ms_max",
)

Row = tuple[float, str, str, int | None, str, float]
MockStats = Callable[[], dict[str, Any] | None]


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank ``q`` quantile (0..1) of ``values`` (``ground.stats``); None when empty. No numpy needed."""
    return nearest_rank(values, 100.0 * q)


def run_queue() -> int | None:
    """Runnable processes right now (``procs_running`` of /proc/stat); None where the kernel does not say."""
    try:
        with open("/proc/stat", "rb") as stat:
            for line in stat:
                if line.startswith(b"procs_running"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


@dataclass
class Watched:
    source: str
    role: str
    pid: int
    children: bool  # also sample its child processes (a service's workers), each as ``source.N``


class ProcessWatch:
    """CPU needs two readings: psutil keeps the previous one per ``Process`` object, so objects are kept."""

    def __init__(self) -> None:
        self._known: dict[int, psutil.Process] = {}

    def _process(self, pid: int) -> psutil.Process:
        process = self._known.get(pid)
        if process is None:
            process = self._known[pid] = psutil.Process(pid)
            process.cpu_percent(None)  # primes the counter: the first reading is meaningless
        return process

    def rows(self, watched: Watched, at: float) -> list[Row]:
        rows: list[Row] = []
        try:
            root = self._process(watched.pid)
            members = [(watched.source, root)]
            if watched.children:
                for index, child in enumerate(root.children(recursive=True), start=1):
                    members.append((f"{watched.source}.{index}", self._process(child.pid)))
        except psutil.Error:
            return rows
        for source, process in members:
            try:
                with process.oneshot():
                    figures = {
                        "cpu_pct": process.cpu_percent(None),
                        "rss_bytes": float(process.memory_info().rss),
                        "threads": float(process.num_threads()),
                        "fds": float(process.num_fds()) if hasattr(process, "num_fds") else None,
                    }
            except psutil.Error:
                continue
            rows += [(at, source, watched.role, process.pid, k, v) for k, v in figures.items() if v is not None]
        return rows

    def forget_dead(self) -> None:
        for pid in [pid for pid, process in self._known.items() if not process.is_running()]:
            del self._known[pid]


def machine_rows(at: float, disk: Path) -> list[Row]:
    """The machine as this run may use it: busy share and core count over the cores of the process's CPU affinity
    (``ground.cores``: all of them, unless the run was confined by taskset, a cpuset or ``sched_setaffinity``)."""
    every_core = psutil.cpu_percent(None, percpu=True)
    usable = [i for i in usable_core_ids() if i < len(every_core)] or list(range(len(every_core)))
    per_core = {i: every_core[i] for i in usable}
    figures: dict[str, float | None] = {
        "cpu_busy_pct": sum(per_core.values()) / len(per_core) if per_core else None,
        "cores": float(len(per_core)),
        "load1": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "mem_available_bytes": float(psutil.virtual_memory().available),
    }
    queue = run_queue()
    figures["run_queue"] = float(queue) if queue is not None else None
    times = psutil.cpu_times_percent(None)
    figures["steal_pct"] = getattr(times, "steal", None)
    with contextlib.suppress(OSError):
        figures["disk_free_bytes"] = float(psutil.disk_usage(str(disk)).free)
    for index, busy in per_core.items():
        figures[f"cpu_busy_pct_core{index}"] = busy
    return [(at, "machine", "machine", None, k, float(v)) for k, v in figures.items() if v is not None]


def mock_rows(at: float, stats: dict[str, Any]) -> list[Row]:
    """The mock's own figures from ``/_mock/stats``: ``health`` (or each shard's, from ``health_shards``)."""
    rows: list[Row] = []
    shards = stats.get("health_shards") or []
    parts = [(f"mock-shard-{s.get('shard', i)}", s) for i, s in enumerate(shards)] or [("mock", stats.get("health"))]
    for source, part in parts:
        if not isinstance(part, dict):
            continue
        pid = part.get("pid")
        for metric in MOCK_FIGURES:
            value = part.get(metric)
            if isinstance(value, int | float):
                rows.append((at, source, "mock", int(pid) if isinstance(pid, int) else None, metric, float(value)))
    return rows


def http_mock_stats(mock_url: str, admin_token: str, *, timeout_s: float = 0.5) -> MockStats:
    """A poller of the mock's ``/_mock/stats`` (loopback; a slow answer is skipped, never waited for)."""
    import httpx

    client = httpx.Client(base_url=mock_url, timeout=timeout_s, follow_redirects=False)
    headers = {"Authorization": f"Bearer {admin_token}"}

    def poll() -> dict[str, Any] | None:
        try:
            response = client.get("/_mock/stats", headers=headers)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        data = response.json()
        return data if isinstance(data, dict) else None

    return poll


class HealthSampler:
    """Samples every watched process, the machine and the mock once a ``interval_s`` into ``health/``."""

    def __init__(
        self,
        run_dir: Path,
        *,
        interval_s: float = INTERVAL_S,
        clock: Clock | None = None,
        mock_stats: MockStats | None = None,
        name: str = "runner",
    ) -> None:
        self.run_dir = run_dir
        self.interval_s = interval_s
        self.clock = clock or SystemClock()
        self.mock_stats = mock_stats
        self.sink = ShardSink(run_dir / HEALTH_DIR, name, schema=HEALTH_SCHEMA, clock=self.clock)
        self._watched: dict[str, Watched] = {}
        self._lock = threading.Lock()
        self._procs = ProcessWatch()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.samples = 0
        psutil.cpu_percent(None, percpu=True)  # prime the machine's counters
        psutil.cpu_times_percent(None)

    def watch(self, source: str, pid: int, role: str, *, children: bool = False) -> None:
        if role not in HEALTH_ROLES:
            raise ValueError(f"unknown health role {role!r}; one of {', '.join(HEALTH_ROLES)}")
        with self._lock:
            self._watched[source] = Watched(source, role, pid, children)
        with contextlib.suppress(psutil.Error):
            self._procs._process(pid)  # prime now, so its first sample is a real one

    def unwatch(self, source: str) -> None:
        with self._lock:
            self._watched.pop(source, None)

    def sample_once(self) -> list[Row]:
        at = self.clock.now()
        with self._lock:
            watched = list(self._watched.values())
        rows = machine_rows(at, self.run_dir)
        for item in watched:
            rows += self._procs.rows(item, at)
        if self.mock_stats is not None:
            stats = self.mock_stats()
            if stats:
                rows += mock_rows(at, stats)
        for row in rows:
            self.sink.append_values(row)
        self.samples += 1
        if self.samples % 60 == 0:
            self._procs.forget_dead()
        return rows

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sample_once()
                self.sink.maybe_flush()
            except Exception:  # watching must never stop the run it watches
                log.exception("health sample failed")

    def start(self) -> HealthSampler:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="scrmbench-health", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with contextlib.suppress(Exception):
            self.sink.close()


def read_health(run_dir: Path) -> pa.Table:
    """Every health sample of a run: ``health.parquet`` and any shards not merged yet (a run cut short)."""
    tables = []
    merged = run_dir / HEALTH_FILE
    if merged.exists():
        with contextlib.suppress(OSError, pa.ArrowException):
            tables.append(pq.read_table(merged, schema=HEALTH_SCHEMA))
    folder = run_dir / HEALTH_DIR
    if folder.is_dir():
        for shard in sorted(folder.glob("*.parquet")):
            with contextlib.suppress(OSError, pa.ArrowException):  # a shard cut mid-write is skipped
                tables.append(pq.read_table(shard, schema=HEALTH_SCHEMA))
    if not tables:
        return HEALTH_SCHEMA.empty_table()
    return pa.concat_tables(tables).select(list(HEALTH_COLUMNS)).sort_by([("at", "ascending")])


def merge_health(run_dir: Path) -> Path | None:
    """Fold ``health/*.parquet`` into ``health.parquet`` (atomic), then remove the shards. None: nothing to do."""
    folder = run_dir / HEALTH_DIR
    if not folder.is_dir():
        return None
    return fold_shards(run_dir, HEALTH_DIR, HEALTH_FILE, read_health(run_dir), keep_empty=False)
