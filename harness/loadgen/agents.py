"""The agents of a contact-centre run: a closed population answering customers through the vendor's own API.

One :class:`AgentDesk` per load process runs this process's share of the agents (agent ``i`` on worker
``i mod workers``), each agent a handful of greenlets: one reading its inbox every ``poll_s``, one per conversation
it is handling (at most its cap; the rest wait in its own backlog). No threads, no Locust users: an agent costs a
greenlet and a connection, so 200 of them fit on one worker beside the customers (``bench/agents_per_worker.py``).

Distributed runs (a master and N workers): each worker runs ``AgentsPlan.indexes_on(index, N)``, so every agent id
runs on exactly one worker; the agent's name carries its global number, not the worker's, so the figures join
across workers as they do on one runner. Shift times are on the run's shared start (the master's ``scrm_start``),
so the leavers go and the second shift comes at the same moment on every worker. A worker that dies takes its
agents with it: the run is then partial (the runner names the missing worker), never silently short of agents.

Human speeds come from one seeded generator per agent (``AgentsPlan``): reading a new conversation takes a
lognormal time (median ``read_s``, σ 0.5), typing ``reply_chars`` characters at ``typing_cps`` (σ 0.3 on the
time), polls are ±20% around ``poll_s``. Every reply carries the customer's correlation token (found in the
opening message the inbox shows), so the mock's ledger times the first human response.

Every request goes through the profile's adapter and one keep-alive pool per desk
(``harness.adapters.pooled_executor.PooledExecutor``, the load users' client; recorded like any request); what
the agents saw and did goes to ``agents/*.parquet`` (``ground.records.AGENT_EVENT_SCHEMA``): each assignment with
the vendor's own time of it, each reply and close, presence, and the tagged segment and its broadcast (worker 0
tags the segment before the load and starts the broadcast at ``broadcast_at_s``). At the end each agent reads its
inbox once more (``sweep``), so an assignment made in the last second is still seen.

Import this module only inside a Locust process (gevent).
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import deque
from pathlib import Path
from typing import Any

import gevent
from gevent.pool import Pool
from locust.env import Environment

from ground.correlation import find_token, make_token
from ground.records import AGENT_EVENT_SCHEMA
from harness.adapters.base import (
    Adapter,
    AgentOffline,
    AgentOnline,
    AgentReply,
    BroadcastSegment,
    Call,
    CloseConversation,
    Outcome,
    ReadInbox,
    TagContact,
)
from harness.adapters.pooled_executor import PooledExecutor
from harness.loadgen.customers import CustomerBook
from harness.loadgen.session import WorkerSession
from harness.loadgen.start import shared_start
from harness.recorder import ShardSink
from plan.load import AgentsPlan
from plan.operations import AGENT_NEEDED, AGENT_OPERATIONS, SEGMENT_OPERATIONS

log = logging.getLogger(__name__)

AGENTS_DIR = "agents"
START_WAIT_S = 60.0
SWEEP_TIMEOUT_S = 10.0
RELOGIN_S = 30.0  # an agent refused at login (no free seat) asks again this much later
TAGGERS = 8  # concurrent tag requests while seeding the segment
# The token space of the agents' own calls (segment broadcast): far above any customer-message sequence.
AGENT_TOKEN_BASE = 9_000_000


NEEDED = AGENT_NEEDED  # of AGENT_OPERATIONS; offline and close are optional


def agents_supported(adapter: Adapter) -> bool:
    """The dialect can log agents in, read their inboxes and reply."""
    return set(NEEDED) <= set(adapter.capabilities) & set(AGENT_OPERATIONS)


class HumanPace:
    """An agent's seeded human speeds (the module docstring)."""

    def __init__(self, plan: AgentsPlan, seed: int, index: int) -> None:
        self.plan = plan
        self.rng = random.Random(f"scrmbench-agent-{seed}-{index}")

    def poll(self) -> float:
        return self.plan.poll_s * self.rng.uniform(0.8, 1.2)

    def read(self) -> float:
        return self.plan.read_s * math.exp(self.rng.gauss(0.0, 0.5))

    def typing(self) -> float:
        return self.plan.reply_chars / self.plan.typing_cps * math.exp(self.rng.gauss(0.0, 0.3))


class EventLog:
    """Rows of ``AGENT_EVENT_SCHEMA`` for this process, flushed like the request records."""

    def __init__(self, run_dir: Path, worker: str) -> None:
        self.worker = worker
        self.sink = ShardSink(run_dir / AGENTS_DIR, worker, schema=AGENT_EVENT_SCHEMA).start()

    def add(
        self,
        event: str,
        *,
        agent: str = "",
        conversation_id: str | None = None,
        customer: str | None = None,
        correlation_id: str | None = None,
        vendor_at: float | None = None,
        ok: bool = True,
        detail: str | None = None,
    ) -> None:
        self.sink.append_values(
            (time.time(), self.worker, agent, event, conversation_id, customer, correlation_id, vendor_at, ok, detail)
        )

    def close(self) -> None:
        self.sink.close()


class SimAgent:
    """One agent: presence, the inbox loop, and a greenlet per conversation it is handling."""

    def __init__(self, desk: AgentDesk, index: int, online_at: float | None, offline_at: float | None) -> None:
        plan = desk.plan
        self.desk = desk
        self.index = index
        self.name = plan.agent_name(desk.session.spec.run_tag or "", index)
        self.skills = plan.skills[index % len(plan.skills)] if plan.skills else ()
        self.online_at = online_at  # seconds after the load's start; None: before it
        self.offline_at = offline_at
        self.pace = HumanPace(plan, desk.session.spec.seed, index)
        self.cursor = ""
        self.online = False
        self.active: set[str] = set()
        self.backlog: deque[dict[str, Any]] = deque()
        self.workers = Pool()

    def call(self, call: Call) -> Outcome:
        adapter = self.desk.session.performer.adapter
        context = self.desk.session.performer.base_context(call.operation, None)
        return self.desk.executor.execute(adapter, adapter.build(call), context)

    def come_online(self) -> bool:
        outcome = self.call(AgentOnline(self.name, self.skills, self.desk.plan.cap))
        self.online = outcome.ok
        event = "online" if outcome.ok else "online_refused"
        cap = outcome.data.get("cap")
        cap = cap if isinstance(cap, int) and cap > 0 else self.desk.plan.cap  # the vendor's, when it says
        self.desk.events.add(event, agent=self.name, ok=outcome.ok, detail=_why(outcome) or f"cap {cap}")
        return outcome.ok

    def go_offline(self) -> None:
        if self.desk.can("agent_offline"):
            outcome = self.call(AgentOffline(self.name))
            self.desk.events.add("offline", agent=self.name, ok=outcome.ok, detail=_why(outcome))
        else:
            self.desk.events.add("offline", agent=self.name, ok=False, detail="the dialect has no agent_offline")
        self.online = False

    def read_inbox(self, event: str = "") -> None:
        outcome = self.call(ReadInbox(self.name, self.cursor))
        if outcome.ok:
            self.cursor = str(outcome.data.get("cursor") or self.cursor)
            for item in outcome.data.get("items") or []:
                self._assigned(item)
        if event:
            self.desk.events.add(event, agent=self.name, ok=outcome.ok, detail=_why(outcome))

    def _assigned(self, item: dict[str, Any]) -> None:
        conversation = str(item["conversation_id"])
        token = find_token(str(item.get("text") or ""))
        self.desk.events.add(
            "assigned",
            agent=self.name,
            conversation_id=conversation,
            customer=str(item.get("customer") or ""),
            correlation_id=token,
            vendor_at=item.get("assigned_at"),
        )
        if conversation in self.active:
            return
        self.backlog.append({**item, "token": token})
        self._start_next()

    def _start_next(self) -> None:
        while self.backlog and len(self.active) < self.desk.plan.cap:
            item = self.backlog.popleft()
            self.active.add(str(item["conversation_id"]))
            self.workers.spawn(self._handle, item)

    def _handle(self, item: dict[str, Any]) -> None:
        conversation = str(item["conversation_id"])
        try:
            gevent.sleep(self.pace.read())
            gevent.sleep(self.pace.typing())
            text = _reply_text(self.name, self.desk.plan.reply_chars)
            reply = self.call(AgentReply(self.name, conversation, str(item.get("customer") or ""), text, item["token"]))
            self.desk.events.add("replied", agent=self.name, conversation_id=conversation,
                                 customer=item.get("customer"), correlation_id=item["token"], ok=reply.ok,
                                 detail=_why(reply))  # fmt: skip
            if self.desk.plan.close_after_reply and self.desk.can("close_conversation"):
                closed = self.call(CloseConversation(self.name, conversation))
                self.desk.events.add("closed", agent=self.name, conversation_id=conversation,
                                     correlation_id=item["token"], ok=closed.ok, detail=_why(closed))  # fmt: skip
        finally:
            self.active.discard(conversation)
            self._start_next()

    def run(self, start_at: float) -> None:
        """Presence and the inbox loop until the desk stops; a leaving agent finishes its conversations first."""
        if not self.online:
            _sleep_until(start_at + (self.online_at or 0.0))
        while not self.online and not self.come_online():
            if self.desk.stopping:
                return
            gevent.sleep(RELOGIN_S)  # a full licence (no_seat) or a vendor error: try later, never in a tight loop
        while not self.desk.stopping:
            if self.offline_at is not None and time.time() >= start_at + self.offline_at and self.online:
                self.go_offline()
                self.read_inbox()  # what was assigned before the vendor knew it left: still this agent's to answer
            if not self.online and not self.active and not self.backlog:
                return
            began = time.monotonic()
            self.read_inbox()
            gevent.sleep(max(0.0, self.pace.poll() - (time.monotonic() - began)))  # a timer, as an inbox UI polls


class AgentDesk:
    """This process's agents (the module docstring); started at test start, stopped (with a sweep) at test stop."""

    def __init__(self, environment: Environment, session: WorkerSession, plan: AgentsPlan, run_dir: Path) -> None:
        self.environment = environment
        self.session = session
        self.plan = plan
        self.events = EventLog(run_dir, f"{session.worker_name}-p{session.spec.phase}")
        self.stopping = False
        indexes = plan.indexes_on(session.worker_index, session.worker_count)
        # One keep-alive pool for the desk, a socket for every request its agents can have in flight (an inbox read
        # and ``cap`` replies each, plus the segment's taggers and broadcast), so none waits for the harness.
        self.executor = PooledExecutor(
            environment.events.request,
            base_url=session.vendor.base_url,
            allowed_targets=tuple(session.vendor.allowed_targets),
            owner_confirmed=session.spec.owner_confirmed,
            concurrency=len(indexes) * (plan.cap + 1) + TAGGERS + 1,
        )
        if plan.total and not indexes and session.worker_index >= session.worker_count:
            log.warning("worker %d of %d simulates no agents: every agent already runs on a worker below %d",
                        session.worker_index, session.worker_count, session.worker_count)  # fmt: skip
        self.agents = [SimAgent(self, i, *plan.shift_of(i)) for i in indexes]
        self._greenlets: list[gevent.Greenlet] = []

    def can(self, operation: str) -> bool:
        return operation in self.session.performer.adapter.capabilities

    def start(self) -> None:
        self._greenlets.append(gevent.spawn(self._run))

    def _run(self) -> None:
        if self._segment() and self.plan.segment_size:
            self._tag_segment()
        first = [agent for agent in self.agents if agent.online_at is None]
        Pool(50).map(lambda agent: agent.come_online(), first)  # before the customers start writing in
        start_at = self._wait_for_start()
        # A first-shift agent refused before the start (a full licence) keeps trying from the start.
        self._greenlets.extend(gevent.spawn(agent.run, start_at) for agent in self.agents)
        if self._segment() and self.plan.broadcast_at_s is not None:
            _sleep_until(start_at + self.plan.broadcast_at_s)
            self._broadcast()

    def _segment(self) -> bool:
        """Worker 0 tags the segment and broadcasts to it, when the plan has one and the dialect both calls (without
        them the segment is "not measured": the runner says which call the dialect lacks)."""
        return (
            self.session.worker_index == 0
            and bool(self.plan.segment_tag)
            and all(self.can(operation) for operation in SEGMENT_OPERATIONS)
        )

    def _wait_for_start(self) -> float:
        deadline = time.monotonic() + START_WAIT_S
        while (start_at := shared_start(self.environment.parsed_options)) is None:
            if time.monotonic() > deadline:
                return time.time()
            gevent.sleep(0.05)
        return start_at

    def segment_members(self) -> list[str]:
        """The customers of the segment: ``segment_size`` of the book, chosen by the run's seed."""
        book: CustomerBook = self.session.performer.customers
        size = min(self.plan.segment_size, len(book))
        rng = random.Random(f"scrmbench-segment-{self.session.spec.seed}")
        return [book.customer(i).wa_id for i in sorted(rng.sample(range(len(book)), size))]

    def _tag_segment(self) -> None:
        tag = str(self.plan.segment_tag)
        clients = [SimAgent(self, -1 - i, None, None) for i in range(TAGGERS)]

        def tag_one(pair: tuple[int, str]) -> None:
            position, wa_id = pair
            outcome = clients[position % TAGGERS].call(TagContact(wa_id, tag))
            self.events.add("tagged", customer=wa_id, ok=outcome.ok, detail=tag if outcome.ok else _why(outcome))

        Pool(TAGGERS).map(tag_one, list(enumerate(self.segment_members())))

    def _broadcast(self) -> None:
        tag = str(self.plan.segment_tag)
        token = make_token(self.session.spec.run_tag or "000000", self.session.worker_index, AGENT_TOKEN_BASE)
        sender = SimAgent(self, -100, None, None)
        outcome = sender.call(
            BroadcastSegment(tag, self.plan.broadcast_template, params=("segment offer",), correlation_id=token)
        )
        self.events.add("broadcast", correlation_id=token, ok=outcome.ok, detail=tag if outcome.ok else _why(outcome))

    def stop(self) -> None:
        """Stop the agents: one last inbox read each (bounded), then end every greenlet and flush the events."""
        self.stopping = True
        sweep = Pool(50)
        for agent in self.agents:
            if agent.online or agent.active:
                sweep.spawn(agent.read_inbox, "sweep")
        sweep.join(timeout=SWEEP_TIMEOUT_S)
        sweep.kill(block=False)
        for agent in self.agents:
            agent.workers.kill(block=False)
        gevent.killall(self._greenlets, block=False)

    def close(self) -> None:
        self.executor.close()
        self.events.close()


def _why(outcome: Outcome) -> str | None:
    if outcome.ok:
        return None
    return f"{outcome.error_kind} {outcome.error_code or ''}: {outcome.error_text or ''}".strip()[:300]


def _reply_text(name: str, chars: int) -> str:
    base = f"Hi, {name} here. Let me check that for you right away."
    return (base * (chars // len(base) + 1))[: max(chars, 1)]


def _sleep_until(at: float) -> None:
    delay = at - time.time()
    if delay > 0:
        gevent.sleep(delay)
