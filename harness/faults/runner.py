"""Play a fault schedule during a run, and always clear what was injected: at the end, on errors and on Ctrl-C.

The runner is asyncio-based and waits on the injected clock, so unit tests run a five-minute schedule in
microseconds with a ``FakeClock``. Fault actions are blocking calls (signals, the docker SDK, HTTP control
calls); they run in a worker thread under a timeout, so a hung control call (Toxiproxy issues #159, #254)
becomes a recorded ``error`` and a :class:`FaultError` instead of a hung run.

The schedule's zero is the runner's start, or, given an ``origin`` (a callable answering the wall-clock time of
the load's own start, or None while it is not known yet), that time: the runner waits for it, so "at 8 s" means
8 s after the load's origin, the same origin as ``scheduled_at`` in the request records. With ``keep_going`` a
failed action is recorded (``error`` on the timeline), kept in ``failures`` and the schedule goes on: a run
keeps its results when one fault misbehaves.

The clean-up sits in a ``finally``: every fault whose inject was *attempted* is cleared (clears are idempotent),
in reverse order. A clear that fails is recorded; if the run itself succeeded it is raised as a FaultError,
otherwise the original error wins and the clear failure stays in ``faults.jsonl`` and the log.

Ctrl-C reaches a runner on the main thread even when the kernel hands SIGINT to another of the process's threads
(a library's native thread): Python runs its handler only on the main thread, and a main thread asleep in the
loop's ``epoll_wait`` (a long step ahead) would otherwise not wake until that step came due. While it runs,
the runner sets a signal wakeup fd the loop reads (unless one is set already, as ``loop.add_signal_handler`` does).

:class:`BackgroundFaults` runs the same runner in its own thread and event loop for callers that are not
asyncio (Locust's gevent world); its ``stop()`` and ``with`` exit cancel the runner and wait for the clean-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from ground.clock import Clock, SystemClock
from ground.errors import FaultError
from harness.faults.base import REGISTRY, Fault, FaultRegistry, FaultTargets
from harness.faults.schedule import FaultSchedule, Occurrence, plan
from harness.faults.timeline import FaultTimeline

log = logging.getLogger(__name__)


@dataclass
class _Step:
    at_s: float
    action: Literal["inject", "clear"]
    index: int  # occurrence index


class FaultRunner:
    def __init__(
        self,
        occurrences: Sequence[Occurrence],
        targets: FaultTargets,
        timeline: FaultTimeline,
        *,
        clock: Clock | None = None,
        registry: FaultRegistry = REGISTRY,
        action_timeout_s: float = 60.0,
    ) -> None:
        self.occurrences = list(occurrences)
        self.timeline = timeline
        self.clock: Clock = clock or timeline.clock or SystemClock()
        self.action_timeout_s = action_timeout_s
        # Build every fault before the run starts: a bad target or parameter is a ConfigError up front,
        # not a surprise at minute 40.
        self.faults: list[Fault] = [registry.get(o.fault).create(o.params, targets, o.target) for o in self.occurrences]
        self.active: dict[int, str] = {}  # occurrence index -> fault id, in inject order
        self.failures: list[str] = []  # with keep_going: every failed action, already on the timeline

    @classmethod
    def from_schedule(
        cls,
        schedule: FaultSchedule,
        run_s: float,
        targets: FaultTargets,
        timeline: FaultTimeline,
        **kwargs: object,
    ) -> FaultRunner:
        registry = kwargs.get("registry", REGISTRY)
        assert isinstance(registry, FaultRegistry)
        return cls(plan(schedule, run_s, registry=registry), targets, timeline, **kwargs)  # type: ignore[arg-type]

    def steps(self) -> list[_Step]:
        steps: list[_Step] = []
        for index, occurrence in enumerate(self.occurrences):
            steps.append(_Step(occurrence.at_s, "inject", index))
            if occurrence.happens:
                steps.append(_Step(occurrence.clear_at_s, "clear", index))

        # At equal times a clear goes before an inject, so back-to-back windows do not overlap; the clear of a
        # zero-length occurrence goes after its own inject (else it would find nothing to clear).
        def order(step: _Step) -> tuple[float, int, int]:
            if step.action == "inject":
                return step.at_s, 1, step.index
            return step.at_s, 2 if self.occurrences[step.index].duration_s == 0 else 0, step.index

        steps.sort(key=order)
        return steps

    async def run(
        self,
        until_s: float | None = None,
        *,
        origin: Callable[[], float | None] | None = None,
        keep_going: bool = False,
        poll_s: float = 0.1,
    ) -> None:
        """Play the schedule; stop at ``until_s`` (clearing what is active) or when the last step is done.

        ``origin``: wait until it gives the wall-clock start of the load, and count the schedule from there.
        ``keep_going``: a failed action goes to ``failures`` (and the timeline) instead of ending the schedule.
        """
        with _signals_wake_the_loop(asyncio.get_running_loop()):
            await self._play(until_s, origin, keep_going, poll_s)

    async def _play(
        self, until_s: float | None, origin: Callable[[], float | None] | None, keep_going: bool, poll_s: float
    ) -> None:
        zero = await self._origin(origin, poll_s)
        failed = True
        try:
            for step in self.steps():
                if until_s is not None and step.at_s > until_s:
                    break
                await self._wait_until(zero + step.at_s)
                try:
                    await self._do(step)
                except FaultError as exc:
                    if not keep_going:
                        raise
                    log.error("%s; the run goes on", exc)
                    self.failures.append(str(exc))
            if until_s is not None:
                await self._wait_until(zero + until_s)
            failed = False
        finally:
            errors = await self.clear_all()
            if keep_going:
                self.failures += [str(error) for error in errors]
            elif errors and not failed:
                raise FaultError(f"{len(errors)} fault(s) could not be cleared: " + "; ".join(map(str, errors)))

    async def _origin(self, origin: Callable[[], float | None] | None, poll_s: float) -> float:
        """The schedule's zero on the monotonic clock: now, or the load's start once ``origin`` knows it."""
        if origin is None:
            return self.clock.monotonic()
        while (start := origin()) is None:
            await self.clock.sleep(poll_s)
        self.timeline.record(
            "note", "schedule-origin", detail=f"fault schedule counted from the load's start {start:.3f}"
        )
        # Wall-clock start → the monotonic clock the waits use (the start may be slightly in the future).
        return self.clock.monotonic() + (start - self.clock.now())

    async def _wait_until(self, deadline: float) -> None:
        delay = deadline - self.clock.monotonic()
        if delay > 0:
            await self.clock.sleep(delay)

    async def _do(self, step: _Step) -> None:
        occurrence, fault = self.occurrences[step.index], self.faults[step.index]
        if step.action == "inject":
            if not occurrence.happens:
                self.timeline.record(
                    "note",
                    fault.name,
                    target=fault.target,
                    params=fault.params.model_dump(mode="json"),
                    detail=f"skipped: probability {occurrence.params.probability:g} draw said no",
                )
                return
            fault_id = self.timeline.new_id(fault)
            # Marked active before the attempt: a half-done inject still gets its clear.
            self.active[step.index] = fault_id
            await self._act(fault, "inject", fault_id)
        elif step.index in self.active:
            fault_id = self.active.pop(step.index)
            await self._act(fault, "clear", fault_id)

    async def _act(self, fault: Fault, action: Literal["inject", "clear"], fault_id: str) -> None:
        try:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel (Ctrl-C) that lands just
            # as the action finishes.
            async with asyncio.timeout(self.action_timeout_s):
                await asyncio.to_thread(self.timeline.apply, fault, action, fault_id)
        except TimeoutError:
            detail = f"{action} did not finish within {self.action_timeout_s:g} s"
            self.timeline.error(fault, fault_id, detail)
            raise FaultError(f"fault {fault.name!r} on {fault.target}: {detail}") from None

    async def clear_all(self) -> list[FaultError]:
        """Clear every active fault, newest first; return (not raise) the failures, each already recorded."""
        errors: list[FaultError] = []
        cancelled = False
        for index in reversed(list(self.active)):
            fault_id = self.active.pop(index)
            try:
                await self._act(self.faults[index], "clear", fault_id)
            except FaultError as exc:
                log.error("%s", exc)
                errors.append(exc)
            except asyncio.CancelledError:
                # A second Ctrl-C during clean-up: finish clearing anyway, then let the cancel through.
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError
        return errors


@contextlib.contextmanager
def _signals_wake_the_loop(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """While inside, a signal caught by any thread of the process writes a byte the loop reads, so the main thread
    leaves ``epoll_wait`` and runs the signal's Python handler (asyncio.run's Ctrl-C cancels the task). Nothing
    changes off the main thread, or when a wakeup fd is set already."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    if previous != -1:  # someone wakes a loop already (loop.add_signal_handler): leave theirs
        signal.set_wakeup_fd(previous)
        reader.close()
        writer.close()
        yield
        return

    def drain() -> None:
        with contextlib.suppress(OSError):
            reader.recv(4096)

    loop.add_reader(reader.fileno(), drain)
    try:
        yield
    finally:
        signal.set_wakeup_fd(-1)
        loop.remove_reader(reader.fileno())
        reader.close()
        writer.close()


class BackgroundFaults:
    """Run a :class:`FaultRunner` in its own thread; ``stop()`` (or leaving the ``with``) clears everything."""

    def __init__(
        self,
        runner: FaultRunner,
        *,
        until_s: float | None = None,
        origin: Callable[[], float | None] | None = None,
        keep_going: bool = False,
    ) -> None:
        self.runner = runner
        self.until_s = until_s
        self.origin = origin
        self.keep_going = keep_going
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, name="scrmbench-faults", daemon=True)

    def start(self) -> BackgroundFaults:
        self._thread.start()
        self._started.wait(timeout=10)
        return self

    def _main(self) -> None:
        asyncio.run(self._body())

    async def _body(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._started.set()
        try:
            await self.runner.run(self.until_s, origin=self.origin, keep_going=self.keep_going)
        except asyncio.CancelledError:
            pass  # stop() asked for it; the runner's finally has cleared the faults
        except BaseException as exc:
            self.error = exc

    def done(self) -> bool:
        return not self._thread.is_alive()

    def stop(self, timeout_s: float = 120.0) -> None:
        """Cancel the schedule, wait for every fault to be cleared, and raise any fault failure."""
        if self._loop is not None and self._task is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise FaultError(f"fault clean-up did not finish within {timeout_s:g} s; check faults.jsonl")
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def __enter__(self) -> BackgroundFaults:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.stop()
            return
        try:
            self.stop()
        except Exception:
            log.exception("fault clean-up failed while the run was already failing")
