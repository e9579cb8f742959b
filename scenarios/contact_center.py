"""contact-center: a business day at the help desk. Customers write in at the day's shape (open model, through the
mock), agents on shifts answer them through the vendor's own API, one tagged segment gets a broadcast.

market-figures.md #11: auto-assign 80% of inbound conversations within 5 s (good setups 3 s), first response under
20 s, 5–7 parallel conversations per agent, a good team's median reply 42 s; the traffic shape's busiest hour is
10:00 and agents change shift in the early afternoon (20 → 80 seats before a holiday: ``second_shift``).

Every customer message comes from a different customer (the book is larger than the run's messages), so each one
opens a conversation the vendor must route. The agents (``plan.load.AgentsPlan``, ``harness.loadgen.agents``)
come online before the first customer, read their inboxes, read and type at human speeds and reply carrying the
customer's token, then close the conversation. A vendor whose dialect has no agent operations still gets the
customers; its agents figures are "not measured", never zero.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from plan.load import AgentsPlan, Criterion, LoadPlan, Phase, TaskWeight
from plan.params import ScenarioParams
from plan.rates import RampingRate, Stage
from scenarios.base import SCENARIOS, Scenario

SOURCE = "market-figures.md #11 (auto-assign 80% within 5 s, good setups 3 s; first response under 20 s)"
TEAM_SOURCE = "market-figures.md #11 (median reply time of a good team: 42 s)"
MAX_AGENTS = 500  # the 10–500 agents online
TAG = r"^[a-z0-9][a-z0-9_-]{0,49}$"


class ContactCenterParams(ScenarioParams):
    duration_s: float = Field(600.0, ge=10, le=24 * 3600, description="the business day, compressed")
    rate: float = Field(3.0, gt=0, le=500, description="new conversations per second in the day's busiest hour")
    customers: int = Field(200_000, ge=100, le=10_000_000, description="distinct customers (one per conversation)")
    pool_size: int = Field(100, ge=1, le=20_000)
    drain_s: float = Field(15.0, ge=0, le=3600)
    agents: int = Field(20, ge=1, le=MAX_AGENTS, description="agents online from the start (the first shift)")
    second_shift: int = Field(8, ge=0, le=MAX_AGENTS, description="agents coming online at the shift change")
    leaving: int = Field(8, ge=0, le=MAX_AGENTS, description="first-shift agents going offline at the shift change")
    shift_at_s: float | None = Field(None, ge=0, description="the shift change; default: half the day")
    agent_cap: int = Field(6, ge=1, le=50, description="parallel conversations per agent (#11: 5–7)")
    skills: list[str] = Field(
        default_factory=lambda: ["sales", "orders", "billing"], max_length=20, description="cycled over the agents"
    )
    poll_s: float = Field(1.0, ge=0.1, le=60, description="how often an agent reads its inbox")
    read_s: float = Field(3.0, ge=0, le=600, description="median time an agent reads a new conversation")
    typing_cps: float = Field(5.0, ge=0.5, le=50, description="an agent's typing speed, characters per second")
    reply_chars: int = Field(80, ge=1, le=4096, description="the length of an agent's reply")
    abandon_s: float = Field(60.0, gt=0, le=3600, description="a customer unassigned this long has abandoned")
    segment_tag: str = Field("vip", pattern=TAG, description="the tag of the broadcast's segment")
    segment_size: int = Field(500, ge=0, le=100_000, description="customers tagged before the load (0: no broadcast)")
    broadcast_at_s: float | None = Field(None, ge=0, description="when the segment broadcast starts; default 30%")

    @model_validator(mode="after")
    def _consistent(self) -> ContactCenterParams:
        if self.leaving > self.agents:
            raise ValueError(f"leaving ({self.leaving}) cannot exceed agents ({self.agents}) of the first shift")
        if self.agents + self.second_shift > MAX_AGENTS:
            raise ValueError(f"agents + second_shift is at most {MAX_AGENTS}")
        for name in ("shift_at_s", "broadcast_at_s"):
            value = getattr(self, name)
            if value is not None and value >= self.duration_s:
                raise ValueError(f"{name} ({value:g}) must fall inside duration_s ({self.duration_s:g})")
        if self.segment_size > self.customers:
            raise ValueError(f"segment_size ({self.segment_size}) cannot exceed customers ({self.customers})")
        bad = [skill for skill in self.skills if not skill or len(skill) > 50 or not skill.isprintable()]
        if bad:
            raise ValueError(f"skills are 1..50 printable characters, got {bad}")
        return self


def business_day(peak: float, duration: float) -> RampingRate:
    """09:00–18:00 in ``duration``: the 10:00 peak, a lunch dip, an afternoon bump, a quiet end of the day."""
    return RampingRate(
        start=0.3 * peak,
        stages=(
            Stage(0.15 * duration, peak),
            Stage(0.10 * duration, peak),
            Stage(0.20 * duration, 0.6 * peak),
            Stage(0.15 * duration, 0.85 * peak),
            Stage(0.40 * duration, 0.4 * peak),
        ),
    )


def build(params: ContactCenterParams) -> LoadPlan:
    d = params.duration_s
    agents = AgentsPlan(
        first_shift=params.agents,
        cap=params.agent_cap,
        shift_at_s=0.5 * d if params.shift_at_s is None else params.shift_at_s,
        second_shift=params.second_shift,
        leaving=params.leaving,
        skills=tuple((skill,) for skill in params.skills),
        poll_s=params.poll_s,
        read_s=params.read_s,
        typing_cps=params.typing_cps,
        reply_chars=params.reply_chars,
        abandon_s=params.abandon_s,
        segment_tag=params.segment_tag if params.segment_size else None,
        segment_size=params.segment_size,
        broadcast_at_s=(0.3 * d if params.broadcast_at_s is None else params.broadcast_at_s),
    )
    criteria = [
        Criterion("assigned_share", 0.80, aggregation="within_5s", comparison=">=", weight=3, source=SOURCE),
        Criterion("assigned_share", 0.80, aggregation="within_3s", comparison=">=", weight=1, source=SOURCE),
        Criterion("first_response_ms", 20_000.0, aggregation="p95", weight=2, source=SOURCE),
        Criterion("first_human_response_ms", 42_000.0, aggregation="p50", weight=1, source=TEAM_SOURCE),
        Criterion("unassigned_ratio", 0.01, aggregation="ratio", weight=2, source=SOURCE),
        Criterion("abandoned_ratio", 0.01, aggregation="ratio", weight=1, source=SOURCE),
        Criterion("error_rate", 0.01, aggregation="ratio", weight=1, source="market-figures.md #9"),
    ]
    if params.segment_size:
        segment = "market-figures.md #2 and the issue's tagged segment (every member once, nobody else)"
        criteria += [
            Criterion("segment_lost", 0, aggregation="count", critical=True, weight=2, source=segment),
            Criterion("segment_unexpected", 0, aggregation="count", weight=2, source=segment),
        ]
    return LoadPlan(
        scenario="contact-center",
        **params.engine_fields(),
        phases=(Phase("business-day", business_day(params.rate, d)),),
        mix=(TaskWeight("customer_message"),),
        criteria=tuple(criteria),
        options={"abandon_s": params.abandon_s, "segment_tag": agents.segment_tag},
        agents=agents,
    )


SCENARIO = Scenario(
    name="contact-center",
    summary="A help-desk day: customers write in, agents on shifts answer through the vendor, one tagged broadcast",
    params_model=ContactCenterParams,
    build_plan=build,
    quick={
        "duration_s": 40,
        "rate": 1.5,
        "customers": 5000,
        "pool_size": 40,
        "drain_s": 5,
        "agents": 4,
        "second_shift": 2,
        "leaving": 2,
        "poll_s": 0.5,
        "read_s": 1.0,
        "typing_cps": 20.0,
        "reply_chars": 40,
        "segment_size": 40,
        "broadcast_at_s": 8,
    },
    needs=(),
)
SCENARIOS.add(SCENARIO.name, SCENARIO)
