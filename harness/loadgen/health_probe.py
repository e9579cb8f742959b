"""The load generator's own truth, per Locust process and per second, into ``health/*.parquet`` (role harness).

- ``loop_lag_ms_p95`` / ``loop_lag_ms_max``: a greenlet asks to sleep 10 ms, again and again; the overshoot is how
  long the gevent hub kept it waiting. A generator that cannot wake a sleeping greenlet on time cannot start a
  request on time either.
- ``start_lateness_ms_p95`` / ``start_lateness_ms_max`` (open model): for slots handed to a free user in that
  second, actual start − scheduled start. A slot with no free user is *dropped* (``slots_dropped``), never late:
  a slow vendor drains the pool (drops); a saturated generator starts late with users free (lateness).
- ``slots_handed`` / ``slots_dropped``: the dispatcher's counts over the second.

Import only inside a Locust process (gevent).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Protocol

import gevent

from ground.records import HEALTH_SCHEMA
from harness.health import HEALTH_DIR, percentile
from harness.loadgen.dispatch import Dispatcher
from harness.recorder import ShardSink

log = logging.getLogger(__name__)

PROBE_SLEEP_S = 0.010
WINDOW_S = 1.0
MAX_SAMPLES = 2000  # per window: bounded memory whatever the rate (a uniform subsample past it)


class LatenessLog:
    """Start lateness of handed slots in the current window; the hot path appends one float."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.seen = 0

    def add(self, seconds: float) -> None:
        if len(self.values) < MAX_SAMPLES:
            self.values.append(seconds)
        else:  # past the cap the newest overwrite the oldest: bounded, and still this second's figures
            self.values[self.seen % MAX_SAMPLES] = seconds
        self.seen += 1

    def take(self) -> list[float]:
        values, self.values, self.seen = self.values, [], 0
        return values


class ProbedEngine(Protocol):
    """What the probe reads of the open model's engine (``locust_engine.OpenEngine``, which imports this module)."""

    @property
    def lateness(self) -> LatenessLog: ...

    @property
    def dispatcher(self) -> Dispatcher | None: ...


class GeneratorProbe:
    """One per load process: the lag greenlet and the per-second writer."""

    def __init__(self, run_dir: Path, source: str, *, engine: ProbedEngine | None = None) -> None:
        self.source = source
        self.engine = engine
        self.sink = ShardSink(run_dir / HEALTH_DIR, f"{source}-gen", schema=HEALTH_SCHEMA)
        self._lags: list[float] = []
        self._greenlets: list[gevent.Greenlet] = []
        self._handed = 0
        self._dropped = 0

    def start(self) -> GeneratorProbe:
        self._greenlets = [gevent.spawn(self._probe), gevent.spawn(self._report)]
        return self

    def _probe(self) -> None:
        while True:
            asked = time.perf_counter()
            gevent.sleep(PROBE_SLEEP_S)
            if len(self._lags) < MAX_SAMPLES:
                self._lags.append(max(0.0, time.perf_counter() - asked - PROBE_SLEEP_S))

    def _report(self) -> None:
        while True:
            gevent.sleep(WINDOW_S)
            try:
                self.flush_window(time.time())
            except Exception:  # the probe must never stop the load
                log.exception("generator health sample failed")

    def flush_window(self, at: float) -> None:
        lags, self._lags = self._lags, []
        figures: dict[str, float | None] = {}
        if lags:
            figures["loop_lag_ms_p95"] = 1000 * (percentile(lags, 0.95) or 0.0)
            figures["loop_lag_ms_max"] = 1000 * max(lags)
        engine = self.engine
        if engine is not None:
            late = engine.lateness.take()
            if late:
                figures["start_lateness_ms_p95"] = 1000 * (percentile(late, 0.95) or 0.0)
                figures["start_lateness_ms_max"] = 1000 * max(late)
            counts = engine.dispatcher.counts if engine.dispatcher is not None else None
            if counts is not None:
                figures["slots_handed"] = float(counts.handed - self._handed)
                figures["slots_dropped"] = float(counts.dropped - self._dropped)
                self._handed, self._dropped = counts.handed, counts.dropped
        pid = _pid()
        for metric, value in figures.items():
            if value is not None:
                self.sink.append_values((at, self.source, "harness", pid, metric, value))
        self.sink.flush()

    def stop(self) -> None:
        for greenlet in self._greenlets:
            greenlet.kill(block=False)
        self._greenlets = []
        try:
            self.flush_window(time.time())
            self.sink.close()
        except Exception:
            log.exception("could not write the last generator health sample")


def _pid() -> int:
    import os

    return os.getpid()
