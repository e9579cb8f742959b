"""The open and closed models inside Locust: a slot pool per worker, the two user classes, and the shape.

Open model: on each worker a dispatcher greenlet walks this worker's share of the schedule and, at each slot's
time, hands the slot to an idle ``OpenModelUser`` or records it as dropped. The shape only keeps the pool of
users alive (``pool_size`` per worker); it never sets the load, so a slow vendor cannot slow the arrivals.
Closed model: ``ClosedModelUser`` loops request → think time, and the shape sets how many of them run.

One origin: once every pool is spawned, the shape (on the master or the local runner) chooses the run's start a
moment ahead (``harness.loadgen.start``), sends it to the workers as the custom message ``scrm_start`` and writes
it to the results folder; every dispatcher starts its share at exactly that time.

Import this module only inside a Locust process: Locust monkey-patches the standard library with gevent.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import gevent
from gevent.queue import Queue
from locust import LoadTestShape, User, between, task
from locust.env import Environment
from locust.runners import STATE_INIT, STATE_MISSING, MasterRunner, WorkerRunner

from ground.heap import settle_heap
from harness.loadgen.context import context_of, params_for, plan_for, spec_of
from harness.loadgen.dispatch import Dispatcher, Slot
from harness.loadgen.health_probe import LatenessLog
from harness.loadgen.operations import DroppedSlot, OperationPicker
from harness.loadgen.session import WorkerSession
from harness.loadgen.start import START_LEAD_S, START_OPTION, choose_start, shared_start, write_load_start
from plan.arrivals import Arrival, WorkerShare, arrival_offsets

log = logging.getLogger(__name__)

IDLE_WAIT_S = 0.5  # a user with no engine yet, or after its queue closed, waits this long (killable) between tries
START_MESSAGE = "scrm_start"  # master → workers: {"start_at": epoch}
START_WAIT_S = 60.0  # a worker that never hears the start begins on its own clock after this (and says so)


class SlotQueue:
    """The pool: idle users block on a queue until a slot comes or the queue closes.

    ``idle`` is kept by hand so a hand-off is never double-counted. A waiting user costs nothing: it wakes only for
    a slot or for ``close`` (at test stopping), never on a timer (with thousands of users in a pool, a wake-up per
    user every half second was thousands of wasted wake-ups a second, measured as generator CPU).
    """

    def __init__(self) -> None:
        self._queue: Queue[tuple[Slot, str] | None] = Queue()
        self._idle = 0
        self.closed = False

    def idle(self) -> int:
        return 0 if self.closed else self._idle

    def hand_with(self, slot: Slot, operation: str) -> None:
        self._idle -= 1
        self._queue.put((slot, operation))

    def take(self) -> tuple[Slot, str] | None:
        """The next slot for this user, or None once the queue is closed."""
        if self.closed:
            return None
        self._idle += 1
        item = self._queue.get()
        if item is None:
            self._idle -= 1
        return item

    def close(self) -> None:
        """Release every waiting user (each gets None); later takes return None at once."""
        if self.closed:
            return
        self.closed = True
        for _ in range(max(self._idle, 0)):
            self._queue.put(None)


class OpenEngine:
    """One per worker process (or the local runner): the dispatcher greenlet feeding the slot queue."""

    def __init__(self, environment: Environment, session: WorkerSession) -> None:
        self.environment = environment
        self.session = session
        self.queue = SlotQueue()
        self._picker = OperationPicker(
            [(t.operation, t.weight) for t in session.plan.mix],
            seed=session.spec.seed,
            worker_index=session.worker_index,
            purpose="mix",
        )
        self.dispatcher: Dispatcher | None = None
        self.lateness = LatenessLog()  # handed slots' start − scheduled, read each second by the health probe
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner) and START_MESSAGE not in runner.custom_messages:
            runner.register_message(START_MESSAGE, _on_start_message)
        self._greenlet = gevent.spawn(self._run)

    def release_users(self) -> None:
        self.queue.close()

    def stop(self) -> None:
        self.queue.close()
        if self._greenlet is not None:
            self._greenlet.kill(block=False)

    def _wait_for_pool(self, size: int, limit_s: float = 10.0) -> None:
        # Without a shared start, start the clock once the pool is spawned, else the first slots drop for want of
        # users, not of capacity. With one, wait for the pool at most until that start.
        deadline = time.monotonic() + limit_s
        while self.queue.idle() < size and time.monotonic() < deadline:
            gevent.sleep(0.05)

    def _run(self) -> None:
        session = self.session
        plan = session.plan
        self._wait_for_pool(plan.pool_size)
        settle_heap()  # the pool's users, greenlets and sockets live for the whole run: keep them out of full GCs
        start_at = self._wait_for_start()
        share = WorkerShare(session.worker_index, session.worker_count)
        offsets = arrival_offsets(session.profile, Arrival(plan.arrival), share=share, seed=session.spec.seed)
        pool = _PoolAdapter(self)
        # Every worker uses the same start: scheduled_at = start + offset, whatever time its pool was ready.
        self.dispatcher = Dispatcher(offsets, start_at=start_at, pool=pool, on_dropped=self._dropped)
        session.schedule_start = start_at
        while not self.dispatcher.finished and not self.queue.closed:
            due = self.dispatcher.next_due_at()
            if due is not None:
                delay = due - time.time()
                if delay > 0:
                    gevent.sleep(delay)
            self.dispatcher.release_due(time.time())

    def _wait_for_start(self, limit_s: float = START_WAIT_S) -> float:
        """The start the shape chose once every pool was spawned (same process, or the master's message)."""
        deadline = time.monotonic() + limit_s
        while (start_at := shared_start(self.environment.parsed_options)) is None:
            if time.monotonic() > deadline:
                log.warning("no shared start after %.0f s; this process starts its schedule on its own clock", limit_s)
                return time.time()
            gevent.sleep(0.05)
        return start_at

    def operation(self) -> str:
        return self._picker.next()

    def done(self) -> bool:
        """Every slot of this worker's share released and no request in flight."""
        return (
            self.dispatcher is not None
            and self.dispatcher.finished
            and self.queue.idle() >= self.session.plan.pool_size
        )

    def record_harness_error(self, slot: Slot, operation: str, exc: Exception) -> None:
        log.exception("slot %s (%s) failed inside the harness", slot.sequence, operation)
        context = self.session.performer.base_context(operation, slot.scheduled_at)
        context.update({"outcome": "failed", "error_kind": "transport", "error_code": "harness-error",
                        "error_text": f"{type(exc).__name__}: {exc}"})  # fmt: skip
        self.environment.events.request.fire(
            request_type="ERROR", name=operation, response_time=(time.time() - slot.scheduled_at) * 1000,
            response_length=0, response=None, context=context, exception=exc, start_time=slot.scheduled_at, url="",
        )  # fmt: skip

    def _dropped(self, slot: Slot) -> None:
        operation = self.operation()
        context = self.session.performer.base_context(operation, slot.scheduled_at)
        context.update({"outcome": "dropped", "error_kind": "dropped", "error_code": "dropped"})
        self.environment.events.request.fire(
            request_type="DROP",
            name=operation,
            response_time=0.0,
            response_length=0,
            response=None,
            context=context,
            exception=DroppedSlot("no idle user at the scheduled time"),
            start_time=slot.scheduled_at,
            url="",
        )


class _PoolAdapter:
    """``SlotPool`` for the dispatcher: picks the slot's operation as it is handed."""

    def __init__(self, engine: OpenEngine) -> None:
        self._engine = engine

    def idle(self) -> int:
        return self._engine.queue.idle()

    def hand(self, slot: Slot) -> None:
        self._engine.queue.hand_with(slot, self._engine.operation())


def engine_of(environment: Environment) -> OpenEngine | None:
    engine = context_of(environment).engine
    return engine if isinstance(engine, OpenEngine) else None


def session_of(environment: Environment) -> WorkerSession:
    session = context_of(environment).session
    if session is None:
        raise RuntimeError("the scrmbench session was not set up (test_start did not run on this process)")
    return session


class OpenModelUser(User):
    """A member of the open model's pool: takes a slot, sends at once, comes back for the next.

    It has no client of its own: every user of the process sends through the session's ``PooledExecutor``.
    """

    abstract = False
    host = "http://127.0.0.1"  # replaced by the vendor profile's base URL at test start

    def wait_time(self) -> float:
        engine = engine_of(self.environment)
        # Between slots no wait; once the queue is closed, wait (killable at once) instead of spinning.
        return 0.0 if engine is not None and not engine.queue.closed else IDLE_WAIT_S

    @task
    def take_slots(self) -> None:
        """Serve slots until the queue closes: one task call for the whole run, not one per slot (Locust's task
        loop, its wait and the hub switch of its zero sleep cost as much as a quarter of a slot's own work)."""
        engine = engine_of(self.environment)
        if engine is None:
            return
        queue, lateness, session = engine.queue, engine.lateness, engine.session
        performer, executor = session.performer, session.executor
        while (item := queue.take()) is not None:
            slot, operation = item
            lateness.add(time.time() - slot.scheduled_at)
            try:
                performer.perform(executor, operation, slot.scheduled_at)
            except Exception as exc:  # a harness-side failure still leaves a record: a slot never vanishes
                engine.record_harness_error(slot, operation, exc)


class ClosedModelUser(User):
    """The closed model: request, think, repeat (what most tools do, and what hides a stall)."""

    abstract = False
    host = "http://127.0.0.1"

    def wait_time(self) -> float:
        think = session_of(self.environment).plan.think_time_s
        return float(between(0.5 * think, 1.5 * think)(self)) if think > 0 else 0.0

    @task
    def act(self) -> None:
        session = session_of(self.environment)
        session.performer.perform(session.executor, session.pick_operation(), None)


class PlanShape(LoadTestShape):
    """Keeps the open model's pool alive for the plan's length, or sets the closed model's user count."""

    use_common_options = True

    def _open_done(self, run_time: float, duration_s: float, spawn_s: float) -> bool:
        """Stop once every load process has released its whole schedule and has nothing in flight, or at the limit.

        The local runner asks its engine; a master relies on its workers' reports (``scrm_done`` in each
        worker report, every few seconds), ignoring workers that went missing.
        """
        if run_time >= duration_s + spawn_s + START_LEAD_S + OPEN_TAIL_S:
            return True
        assert self.runner is not None
        if isinstance(self.runner, MasterRunner):
            done = context_of(self.runner.environment).done
            live = [cid for cid, node in self.runner.clients.items() if node.state != STATE_MISSING]
            return bool(live) and all(done.get(cid, False) for cid in live)
        engine = engine_of(self.runner.environment)
        return engine is not None and engine.done()

    def tick(self) -> tuple[int, float, list[type]] | None:
        assert self.runner is not None  # Locust sets it before the first tick
        plan, profile = plan_for(self.runner.environment)
        run_time = self.get_run_time()
        workers = _worker_count(self.runner)
        if plan.load_model == "open":
            users = plan.pool_size * workers
            # Spawn the pool within about a second: the dispatchers start their clocks at the shared start.
            spawn_rate = float(max(min(users, 1000), 1))
            self._choose_start(lead_s=START_LEAD_S, ready=self.runner.user_count >= users)
            if self._open_done(run_time, profile.duration_s, users / spawn_rate):
                return None
            return users, spawn_rate, [OpenModelUser]
        self._choose_start(lead_s=0.0, ready=True)  # closed users start as they spawn
        if run_time >= profile.duration_s:
            return None
        peak = max(profile.rate_at(t) for t in _sample_times(profile.duration_s)) or 1.0
        level = profile.rate_at(min(run_time, profile.duration_s - 1e-6))
        users = max(1, round(session_users(self.runner.environment) * level / peak))
        return users, float(min(users, 100 * workers)), [ClosedModelUser]

    def _choose_start(self, *, lead_s: float, ready: bool) -> None:
        """Once the pools are ready: choose the start, tell the workers, write it for the fault schedule."""
        assert self.runner is not None
        environment = self.runner.environment
        if self.runner.state == STATE_INIT and environment.parsed_options is not None:
            # A new test (the web UI can start several): the previous one's start is stale.
            vars(environment.parsed_options).pop(START_OPTION, None)
        if not ready or environment.parsed_options is None:
            return
        start, new = choose_start(environment.parsed_options, now=time.time(), lead_s=lead_s, renew=False)
        if new:
            if isinstance(self.runner, MasterRunner):
                self.runner.send_message(START_MESSAGE, {"start_at": start})

            spec = spec_of(environment)
            if spec.results_dir:
                write_load_start(Path(spec.results_dir), spec.phase, start, workers=_worker_count(self.runner))


def _on_start_message(environment: Environment, msg: Any, **_: Any) -> None:
    """On a worker: the master's shared start."""
    setattr(environment.parsed_options, START_OPTION, float(msg.data["start_at"]))


OPEN_TAIL_S = 12.0  # after the schedule: the pool's start-up wait (≤ 10 s) plus the last requests in flight


def _sample_times(duration: float) -> list[float]:
    return [duration * i / 200 for i in range(200)]


def _worker_count(runner: Any) -> int:
    if isinstance(runner, MasterRunner):
        return max(runner.worker_count, 1)
    return 1


def session_users(environment: Environment) -> int:
    return int(params_for(environment).users)


def is_load_process(environment: Environment) -> bool:
    """Workers and the local runner generate load; the master only coordinates."""
    return not isinstance(environment.runner, MasterRunner)


def is_worker(environment: Environment) -> bool:
    return isinstance(environment.runner, WorkerRunner)
