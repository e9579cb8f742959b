"""The mock's own truth: was the *mock* the bottleneck? Served under ``"health"`` in ``GET /_mock/stats``.

One ``MockHealth`` per mock process (``state.health``) watches three figures, each aggregated in fixed windows of
``window_s`` (1 s) on the injected clock. Windows are aligned to whole Unix seconds (``window_end`` is the Unix
second a window ends at), so the windows of the shard processes of a sharded mock line up and can be compared.

``loop_lag_ms``
    Event-loop lag: a background task (started and cancelled in the app's lifespan) asks asyncio to sleep
    ``probe_interval_s`` (10 ms), over and over; each wake-up records how many ms *later* than asked it ran
    (never negative). Measured on the real clock (``time.perf_counter``: a fake clock cannot stall), placed in the
    window of the injected clock. It includes the timer's granularity, so an idle loop shows about 0-1 ms; a
    handler that blocks the loop for 200 ms shows up as one sample of about 190-200 ms.
``service_ms``
    Request service time: from the moment the ASGI app is called for an HTTP request (headers parsed) until it
    returns (the last response byte handed to the server), for every request the mock serves, control plane,
    shed (503) and faulted ones included. Measured on the injected clock by ``ServiceTimeMiddleware``, the
    outermost middleware; ``requests`` is how many requests finished in the window.
``webhook_queue_lag_ms``
    Webhook queue lag: for each first POST attempt of a webhook delivery, how long its oldest update waited in the
    dispatcher's schedule, ready queue and batch after it was due (submit time plus its ladder/reorder delay)
    until the POST began. Retries are not counted (their wait is the retry schedule, not the mock's load).

Each window keeps the exact count and maximum and at most ``capacity`` samples (a uniform reservoir,
Vitter's algorithm R, past that), so memory stays bounded whatever the load; only the current window and the
last completed one are kept. ``p95`` is the nearest-rank 95th percentile of the window's (reservoir) samples.
A figure with no samples in the window is ``null``; ``requests`` is then 0.

``snapshot()`` describes the last *completed* window::

    {"window_s": 1.0, "window_end": 1750000001.0, "pid": 4242,
     "loop_lag_ms_p95": 0.4, "loop_lag_ms_max": 1.1, "service_ms_p95": 0.3, "service_ms_max": 2.0,
     "requests": 812, "webhook_queue_lag_ms_p95": 0.2, "webhook_queue_lag_ms_max": 0.9}

A sharded mock answers with each shard's snapshot in ``"health_shards"`` (with ``"shard": i``) and their
``worst()`` in ``"health"``: the maximum of each figure, the sum of ``requests``, the latest ``window_end`` and
``pid`` null (it is no one process). ``POST /_mock/reset`` does not clear these figures: they describe the
process, not a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import time
from array import array
from collections.abc import Callable, Sequence
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ground.clock import Clock

WINDOW_S = 1.0
PROBE_INTERVAL_S = 0.010
CAPACITY = 2048  # samples kept per window and figure (8 bytes each); past it, a uniform reservoir
_DIGITS = 3  # ms rounded to µs

Health = dict[str, Any]


class WindowedSamples:
    """Samples of one figure in fixed windows of ``window_s`` on a monotonic time line.

    Window ``k`` covers monotonic times ``[k * window_s - offset, (k + 1) * window_s - offset)``, where ``offset``
    is the clock's wall time minus its monotonic time, so ``(k + 1) * window_s`` is the window's end in Unix
    seconds. ``add`` is the hot path: one comparison, one append (or a reservoir draw past ``capacity``).
    """

    __slots__ = (
        "_capacity",
        "_count",
        "_end",
        "_index",
        "_max",
        "_offset",
        "_prev_count",
        "_prev_index",
        "_prev_max",
        "_prev_samples",
        "_random",
        "_samples",
        "_window_s",
    )

    def __init__(self, *, offset: float, window_s: float = WINDOW_S, capacity: int = CAPACITY, seed: int = 0) -> None:
        if window_s <= 0 or capacity < 1:
            raise ValueError("a window needs a positive length and room for at least one sample")
        self._window_s = window_s
        self._offset = offset
        self._capacity = capacity
        self._random = random.Random(seed).random
        self._samples = array("d")
        self._prev_samples = array("d")
        self._index = -1  # no window open yet: the first add or read opens one
        self._end = -math.inf
        self._count = 0
        self._max = -math.inf
        self._prev_index = -1
        self._prev_count = 0
        self._prev_max = -math.inf

    def add(self, value: float, at: float) -> None:
        """Record ``value`` observed at monotonic time ``at``."""
        if at >= self._end:
            self._roll(at)
        self._count += 1
        if value > self._max:
            self._max = value
        if self._count <= self._capacity:
            self._samples.append(value)
        else:  # algorithm R: keep each of the n samples seen with probability capacity / n
            slot = int(self._random() * self._count)
            if slot < self._capacity:
                self._samples[slot] = value

    def _roll(self, at: float) -> None:
        index = max(int((at + self._offset) // self._window_s), self._index + 1)
        if index == self._index + 1:  # the open window completes: it becomes the previous one
            self._prev_samples, self._samples = self._samples, self._prev_samples
            self._prev_count, self._prev_max = self._count, self._max
        else:  # a whole window (or more) went by without a sample: the previous window is empty
            self._prev_count, self._prev_max = 0, -math.inf
        del self._samples[:]
        self._prev_index = index - 1
        self._index = index
        self._end = (index + 1) * self._window_s - self._offset
        self._count, self._max = 0, -math.inf

    def completed(self, at: float) -> tuple[float, int, float | None, float | None]:
        """``(window_end, count, p95, max)`` of the last window completed at monotonic time ``at``."""
        if at >= self._end:
            self._roll(at)
        end = (self._prev_index + 1) * self._window_s
        if not self._prev_count:
            return end, 0, None, None
        ordered = sorted(self._prev_samples)
        p95 = ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]
        return end, self._prev_count, round(p95, _DIGITS), round(self._prev_max, _DIGITS)


class MockHealth:
    """Loop lag, service time and webhook queue lag of one mock process (``state.health``)."""

    def __init__(
        self,
        clock: Clock,
        *,
        window_s: float = WINDOW_S,
        capacity: int = CAPACITY,
        probe_interval_s: float = PROBE_INTERVAL_S,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.clock = clock
        self.window_s = window_s
        self.probe_interval_s = probe_interval_s
        self._timer = timer
        offset = clock.now() - clock.monotonic()
        self.loop_lag = WindowedSamples(offset=offset, window_s=window_s, capacity=capacity, seed=1)
        self.service = WindowedSamples(offset=offset, window_s=window_s, capacity=capacity, seed=2)
        self.webhook_queue_lag = WindowedSamples(offset=offset, window_s=window_s, capacity=capacity, seed=3)
        self._probe: asyncio.Task[None] | None = None

    # ---- recording ---------------------------------------------------------------------------------------

    def record_webhook_queue_lag(self, lag_ms: float, at: float) -> None:
        """The dispatcher's hook: a first POST attempt began ``lag_ms`` after its oldest update was due."""
        self.webhook_queue_lag.add(lag_ms, at)

    async def start(self) -> None:
        """Start the loop-lag probe (in the app's lifespan)."""
        if self._probe is None:
            self._probe = asyncio.create_task(self._run_probe(), name="mock-health-loop-lag")

    async def stop(self) -> None:
        task, self._probe = self._probe, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run_probe(self) -> None:
        interval, timer, monotonic, add = self.probe_interval_s, self._timer, self.clock.monotonic, self.loop_lag.add
        while True:
            asked = timer() + interval
            await asyncio.sleep(interval)
            late = timer() - asked
            add(late * 1000.0 if late > 0.0 else 0.0, monotonic())

    # ---- reading -----------------------------------------------------------------------------------------

    def snapshot(self) -> Health:
        """The last completed window of every figure (the ``"health"`` of ``/_mock/stats``)."""
        at = self.clock.monotonic()
        end, _, lag_p95, lag_max = self.loop_lag.completed(at)
        _, requests, service_p95, service_max = self.service.completed(at)
        _, _, queue_p95, queue_max = self.webhook_queue_lag.completed(at)
        return {
            "window_s": self.window_s,
            "window_end": end,
            "pid": os.getpid(),
            "loop_lag_ms_p95": lag_p95,
            "loop_lag_ms_max": lag_max,
            "service_ms_p95": service_p95,
            "service_ms_max": service_max,
            "requests": requests,
            "webhook_queue_lag_ms_p95": queue_p95,
            "webhook_queue_lag_ms_max": queue_max,
        }


def worst(snapshots: Sequence[Health]) -> Health:
    """Several shards' snapshots as one: each figure's maximum, ``requests`` summed, the latest ``window_end``."""

    def highest(key: str) -> float | None:
        values = [s[key] for s in snapshots if s.get(key) is not None]
        return max(values) if values else None

    return {
        "window_s": snapshots[0]["window_s"],
        "window_end": max(s["window_end"] for s in snapshots),
        "pid": None,
        "loop_lag_ms_p95": highest("loop_lag_ms_p95"),
        "loop_lag_ms_max": highest("loop_lag_ms_max"),
        "service_ms_p95": highest("service_ms_p95"),
        "service_ms_max": highest("service_ms_max"),
        "requests": sum(s["requests"] for s in snapshots),
        "webhook_queue_lag_ms_p95": highest("webhook_queue_lag_ms_p95"),
        "webhook_queue_lag_ms_max": highest("webhook_queue_lag_ms_max"),
    }


class ServiceTimeMiddleware:
    """Pure ASGI: times every HTTP request from the app being called until it returns (``service_ms``).

    The outermost middleware, so shed and faulted requests count too. Per request: two clock readings and one
    ``WindowedSamples.add`` (no closure, no wrapped ``send``).
    """

    def __init__(self, app: ASGIApp, health: MockHealth) -> None:
        self.app = app
        self._monotonic = health.clock.monotonic
        self._add = health.service.add

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        monotonic = self._monotonic
        started = monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            done = monotonic()
            self._add((done - started) * 1000.0, done)
