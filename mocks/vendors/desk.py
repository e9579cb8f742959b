"""The contact-centre desk: agents' presence, their caps, routing, the waiting queue and the assignment log.

A pure state machine on times it is given (no clock, no I/O), so the app drives it from its handlers and a test
drives it from a discrete-event simulation with the very same code (``tests/mocks/vendors/test_desk_truth.py``).

- **Presence.** ``online(agent, skills, cap, at)`` / ``offline(agent, at)``. At most ``seats`` agents are online at
  once (``NoSeat`` past that); an agent's cap is the smaller of the one it asks for and the vendor's ``agent_cap``
  (default 6, market-figures.md #11: 5–7 parallel conversations per agent). Going offline keeps the agent's open
  conversations with it (it may still close them) and takes no new ones.
- **Routing.** A conversation that opens (``arrive``) goes to an online agent with a free slot, chosen by
  ``strategy``: ``round-robin`` (the next agent after the last one picked, in the order they came online),
  ``least-busy`` (fewest open conversations; ties to the earliest online; ``least-loaded`` is its old name) or
  ``skill`` (the conversation's intent, from keywords, picks the agents with that skill, least-busy among them;
  an intent no online agent has goes to anyone). With every eligible agent full it waits in a FIFO queue; a slot
  that frees (``release``) or an agent that comes online takes the first waiting conversation it may take.
- **Handle time.** With ``handle_s`` set, each assignment holds its agent's slot for an exponential draw with that
  mean (seeded), released by the driver at ``Assignment.release_at`` whatever the agent does (the vendor's
  wrap-up timer; an earlier close ends the conversation, not the hold). Without it a slot frees when the agent
  closes the conversation. The hold makes the desk an M/M/c queue with c = online agents × cap (the
  ``understaffed`` profile's truth, ``erlang_c``).
- **Nobody online yet.** Until the first agent comes online (``staffed``) the vendor routes as it always did
  (``routing.Assigner``: every new conversation at once to the configured ``agents`` list, no cap, no queue), so
  the profiles measured before presence existed keep their behaviour; the desk takes over from then on.
- **Events.** Every assignment is logged with its time, agent, conversation and wait; ``inbox(agent, since)`` reads
  one agent's assignments after a cursor (the assignment's sequence number), ``events(since)`` all of them.
"""

from __future__ import annotations

import math
import random
import re
from collections import deque
from dataclasses import dataclass, field

DEFAULT_INTENTS = {
    "discount": "sales",
    "price": "sales",
    "stock": "sales",
    "order": "orders",
    "delivery": "orders",
    "address": "orders",
    "refund": "billing",
    "invoice": "billing",
}
EVENTS_KEPT = 200_000  # assignments kept for /_vendor/assignments and the inboxes (a day of a busy desk)


class NoSeat(Exception):
    """Every seat of the vendor's licence is taken (``seats`` agents online)."""


@dataclass
class Agent:
    name: str
    skills: frozenset[str]
    cap: int
    online: bool = True
    since: float = 0.0
    order: int = 0  # when it (last) came online, for round-robin and ties
    open: set[int] = field(default_factory=set)  # conversations holding one of its slots
    inbox: deque[Assignment] = field(default_factory=lambda: deque(maxlen=EVENTS_KEPT))

    @property
    def free(self) -> int:
        return self.cap - len(self.open) if self.online else 0


@dataclass(frozen=True)
class Assignment:
    seq: int
    at: float  # when it was assigned (the driver's clock: the vendor's wall clock in the app)
    agent: str
    conversation_id: int
    wa_id: str
    text: str  # the customer's opening message
    arrived_at: float  # when the conversation opened
    intent: str = "general"
    release_at: float | None = None  # the end of the handle-time hold, when the desk has one

    @property
    def waited_s(self) -> float:
        return self.at - self.arrived_at

    def as_dict(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "conversation_id": self.conversation_id,
            "wa_id": self.wa_id,
            "agent": self.agent,
            "text": self.text,
            "intent": self.intent,
            "arrived_at": self.arrived_at,
            "assigned_at": self.at,
            "waited_s": self.waited_s,
        }


@dataclass
class _Waiting:
    conversation_id: int
    wa_id: str
    text: str
    intent: str
    arrived_at: float


class Desk:
    def __init__(
        self,
        *,
        strategy: str = "round-robin",
        agent_cap: int = 6,
        seats: int | None = None,
        handle_s: float | None = None,
        seed: int = 0,
        intents: dict[str, str] | None = None,
    ) -> None:
        self.strategy = "least-busy" if strategy == "least-loaded" else strategy
        self.agent_cap = agent_cap
        self.seats = seats
        self.handle_s = handle_s
        self.rng = random.Random(f"desk-{seed}")
        self.intents = [(re.compile(rf"\b{re.escape(k)}\b"), v) for k, v in (intents or DEFAULT_INTENTS).items()]
        self.agents: dict[str, Agent] = {}
        self.queue: deque[_Waiting] = deque()
        self.holder: dict[int, str | None] = {}  # open conversations: their agent, None while waiting
        self.log: deque[Assignment] = deque(maxlen=EVENTS_KEPT)
        self.staffed = False  # an agent came online at least once: presence routing from then on
        self._seq = 0
        self._order = 0
        self._last_pick = -1
        self.abandoned = 0

    # Presence

    def online(self, name: str, at: float, *, skills: tuple[str, ...] = (), cap: int | None = None) -> list[Assignment]:
        agent = self.agents.get(name)
        if agent is None or not agent.online:
            if self.seats is not None and self.online_count() >= self.seats:
                raise NoSeat(f"all {self.seats} seats are taken")
            self._order += 1
        wanted = self.agent_cap if cap is None else max(1, min(cap, self.agent_cap))
        if agent is None:
            agent = self.agents[name] = Agent(name, frozenset(skills), wanted, since=at, order=self._order)
        else:
            if not agent.online:
                agent.order, agent.since = self._order, at
            agent.online, agent.skills, agent.cap = True, frozenset(skills) or agent.skills, wanted
        self.staffed = True
        return self._drain(at)

    def offline(self, name: str, at: float) -> bool:
        agent = self.agents.get(name)
        if agent is None:
            return False
        agent.online = False
        return True

    def online_count(self) -> int:
        return sum(1 for agent in self.agents.values() if agent.online)

    # Conversations

    def is_open(self, conversation_id: int) -> bool:
        return conversation_id in self.holder

    def intent_of(self, text: str) -> str:
        lowered = text.lower()
        return next((intent for pattern, intent in self.intents if pattern.search(lowered)), "general")

    def arrive(self, conversation_id: int, wa_id: str, text: str, at: float) -> list[Assignment]:
        """A conversation opens (a new customer, or one whose conversation was closed)."""
        if conversation_id in self.holder:
            return []
        waiting = _Waiting(conversation_id, wa_id, text, self.intent_of(text), at)
        self.holder[conversation_id] = None
        agent = self._pick(waiting)
        if agent is None:
            self.queue.append(waiting)
            return []
        return [self._assign(agent, waiting, at)]

    def release(self, conversation_id: int, at: float, *, close: bool = True) -> list[Assignment]:
        """A slot frees: the agent closed the conversation (``close``), or the handle-time hold ended."""
        name = self.holder.get(conversation_id)
        if name is None:
            if close and conversation_id in self.holder:  # closed while still waiting: it leaves the queue
                del self.holder[conversation_id]
                self.queue = deque(w for w in self.queue if w.conversation_id != conversation_id)
            return []
        agent = self.agents[name]
        if self.handle_s is not None and close:
            return []  # the hold, not the agent, frees the slot (``release_hold`` at its end)
        agent.open.discard(conversation_id)
        del self.holder[conversation_id]
        return self._drain(at)

    def release_hold(self, conversation_id: int, at: float) -> list[Assignment]:
        return self.release(conversation_id, at, close=False)

    def holds(self, conversation_id: int, agent: str) -> bool:
        return self.holder.get(conversation_id) == agent

    # Reading

    def inbox(self, name: str, since: int, limit: int) -> tuple[list[Assignment], int]:
        agent = self.agents.get(name)
        if agent is None:
            return [], since
        items = [a for a in agent.inbox if a.seq > since][:limit]
        return items, (items[-1].seq if items else since)

    def events(self, since: int, limit: int) -> list[Assignment]:
        return [a for a in self.log if a.seq > since][:limit]

    def stats(self) -> dict[str, object]:
        return {
            "strategy": self.strategy,
            "staffed": self.staffed,
            "online": self.online_count(),
            "seats": self.seats,
            "agent_cap": self.agent_cap,
            "queue_length": len(self.queue),
            "open_conversations": len(self.holder),
            "assignments": self._seq,
            "per_agent": {
                agent.name: {"online": agent.online, "open": len(agent.open), "cap": agent.cap}
                for agent in self.agents.values()
            },
        }

    # Inside

    def _eligible(self, waiting: _Waiting) -> list[Agent]:
        online = [agent for agent in self.agents.values() if agent.online]
        if self.strategy == "skill":
            skilled = [agent for agent in online if waiting.intent in agent.skills]
            if skilled:
                return skilled
        return online

    def _pick(self, waiting: _Waiting) -> Agent | None:
        free = sorted((a for a in self._eligible(waiting) if a.free > 0), key=lambda a: a.order)
        if not free:
            return None
        if self.strategy == "round-robin":
            after = [a for a in free if a.order > self._last_pick]
            return (after or free)[0]
        return min(free, key=lambda a: (len(a.open), a.order))

    def _assign(self, agent: Agent, waiting: _Waiting, at: float) -> Assignment:
        self._seq += 1
        self._last_pick = agent.order
        hold = None if self.handle_s is None else at + self.rng.expovariate(1.0 / self.handle_s)
        assignment = Assignment(
            self._seq, at, agent.name, waiting.conversation_id, waiting.wa_id, waiting.text, waiting.arrived_at,
            waiting.intent, hold,
        )  # fmt: skip
        agent.open.add(waiting.conversation_id)
        agent.inbox.append(assignment)
        self.holder[waiting.conversation_id] = agent.name
        self.log.append(assignment)
        return assignment

    def _drain(self, at: float) -> list[Assignment]:
        """Free slots take the waiting conversations they may take, oldest first."""
        made: list[Assignment] = []
        kept: deque[_Waiting] = deque()
        while self.queue:
            waiting = self.queue.popleft()
            agent = self._pick(waiting)
            if agent is None:
                kept.append(waiting)
                if not any(a.free > 0 for a in self.agents.values()):
                    break  # nobody has a free slot: the rest of the queue waits too
                continue
            made.append(self._assign(agent, waiting, at))
        kept.extend(self.queue)
        self.queue = kept
        return made


def erlang_c(servers: int, offered: float) -> float:
    """The probability that an arrival waits in an M/M/c queue with ``servers`` and load ``offered`` = λ/μ < c."""
    if offered >= servers:
        return 1.0
    term = 1.0
    total = 1.0
    for k in range(1, servers):
        term *= offered / k
        total += term
    last = term * offered / servers * servers / (servers - offered)
    return last / (total + last)


def mm_c_wait(servers: int, arrival_rate: float, handle_s: float) -> dict[str, float]:
    """The M/M/c truth of the desk with a handle-time hold: P(wait), mean wait, and P(wait ≤ 3 s), P(wait ≤ 5 s).

    With c servers (online agents × cap), service rate μ = 1 / handle_s and λ < cμ: P(W > t) = C(c, λ/μ)·e^{−(cμ−λ)t},
    E[W] = C / (cμ − λ). At λ ≥ cμ the queue grows without bound (every figure is then infinite or 0)."""
    mu = 1.0 / handle_s
    spare = servers * mu - arrival_rate
    if spare <= 0:
        return {"p_wait": 1.0, "mean_wait_s": math.inf, "within_3s": 0.0, "within_5s": 0.0}
    c = erlang_c(servers, arrival_rate / mu)
    return {
        "p_wait": c,
        "mean_wait_s": c / spare,
        "within_3s": 1.0 - c * math.exp(-spare * 3.0),
        "within_5s": 1.0 - c * math.exp(-spare * 5.0),
    }
