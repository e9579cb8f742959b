"""The desk: presence, caps, the three routings, the waiting queue, seats, and the `understaffed` Erlang C truth.

The truth test drives the desk the app uses with a discrete-event simulation (seeded Poisson arrivals, the desk's
own seeded handle-time holds), so tens of thousands of conversations take a fraction of a second and no clock.
"""

from __future__ import annotations

import heapq
import random

import pytest

from mocks.vendors.config import build_settings
from mocks.vendors.desk import Desk, NoSeat, erlang_c, mm_c_wait
from mocks.vendors.profiles import truth


def test_round_robin_goes_around_the_online_agents_in_the_order_they_came_online():
    desk = Desk(strategy="round-robin")
    for name in ("a", "b", "c"):
        desk.online(name, 0.0)
    picked = [desk.arrive(i, f"49{i}", "hi", 1.0)[0].agent for i in range(5)]
    assert picked == ["a", "b", "c", "a", "b"]


def test_least_busy_picks_the_agent_with_fewest_open_conversations():
    desk = Desk(strategy="least-busy")
    desk.online("a", 0.0)
    desk.online("b", 0.0)
    first = desk.arrive(1, "491", "hi", 1.0)[0]
    second = desk.arrive(2, "492", "hi", 1.0)[0]
    assert (first.agent, second.agent) == ("a", "b")
    desk.release(1, 2.0)
    assert desk.arrive(3, "493", "hi", 3.0)[0].agent == "a"


def test_skill_routing_sends_an_intent_to_the_agents_with_that_skill():
    desk = Desk(strategy="skill")
    desk.online("seller", 0.0, skills=("sales",))
    desk.online("courier", 0.0, skills=("orders",))
    assert desk.arrive(1, "491", "Where is my order?", 1.0)[0].agent == "courier"
    assert desk.arrive(2, "492", "Do you have a discount code?", 1.0)[0].agent == "seller"
    # An intent nobody online has goes to anyone.
    assert desk.arrive(3, "493", "Refund please", 1.0)[0].intent == "billing"


def test_a_full_desk_queues_and_a_freed_slot_takes_the_oldest_waiting():
    desk = Desk(strategy="least-busy", agent_cap=2)
    desk.online("a", 0.0)
    assert desk.arrive(1, "491", "hi", 1.0) and desk.arrive(2, "492", "hi", 1.0)
    assert desk.arrive(3, "493", "hi", 2.0) == [] and desk.arrive(4, "494", "hi", 3.0) == []
    assert len(desk.queue) == 2
    made = desk.release(1, 5.0)
    assert [(m.conversation_id, m.waited_s) for m in made] == [(3, 3.0)]
    # An agent that comes online takes the rest of the queue.
    made = desk.online("b", 6.0)
    assert [(m.conversation_id, m.agent, m.waited_s) for m in made] == [(4, "b", 3.0)]


def test_the_cap_is_the_smaller_of_the_asked_and_the_vendors():
    desk = Desk(agent_cap=6)
    desk.online("a", 0.0, cap=9)
    desk.online("b", 0.0, cap=3)
    assert (desk.agents["a"].cap, desk.agents["b"].cap) == (6, 3)


def test_seats_refuse_the_agent_past_the_licence_and_offline_frees_a_seat():
    desk = Desk(seats=1)
    desk.online("a", 0.0)
    with pytest.raises(NoSeat):
        desk.online("b", 0.0)
    desk.offline("a", 1.0)
    desk.online("b", 2.0)
    assert desk.online_count() == 1


def test_an_offline_agent_takes_nothing_new_and_the_inbox_reads_after_a_cursor():
    desk = Desk()
    desk.online("a", 0.0)
    desk.arrive(1, "491", "hi sb-x", 1.0)
    desk.arrive(2, "492", "hi", 1.5)
    items, cursor = desk.inbox("a", 0, 50)
    assert [item.conversation_id for item in items] == [1, 2] and items[0].text == "hi sb-x"
    assert desk.inbox("a", cursor, 50) == ([], cursor)
    desk.offline("a", 2.0)
    assert desk.arrive(3, "493", "hi", 3.0) == [] and len(desk.queue) == 1


def test_with_a_handle_time_the_hold_frees_the_slot_not_the_close():
    desk = Desk(agent_cap=1, handle_s=4.0, seed=1)
    desk.online("a", 0.0)
    first = desk.arrive(1, "491", "hi", 0.0)[0]
    assert first.release_at is not None and first.release_at > 0.0
    assert desk.release(1, 0.1) == []  # closed by the agent: the hold still holds the slot
    desk.arrive(2, "492", "hi", 0.2)
    made = desk.release_hold(1, first.release_at)
    assert [m.conversation_id for m in made] == [2]


def test_erlang_c_matches_the_textbook_figure():
    # Two servers, offered load 1 Erlang: C = 1/3.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = ρ


def simulate(desk: Desk, rate: float, arrivals: int, seed: int) -> list[float]:
    """Poisson arrivals into ``desk``; the holds it draws are released at their time. Returns every wait."""
    rng = random.Random(seed)
    events: list[tuple[float, int, str, int]] = []  # (time, order, kind, conversation)
    order = 0
    t = 0.0
    for conversation in range(arrivals):
        t += rng.expovariate(rate)
        heapq.heappush(events, (t, order, "arrive", conversation))
        order += 1
    waits: list[float] = []
    while events:
        at, _, kind, conversation = heapq.heappop(events)
        made = desk.arrive(conversation, "49", "hi", at) if kind == "arrive" else desk.release_hold(conversation, at)
        for assignment in made:
            waits.append(assignment.waited_s)
            assert assignment.release_at is not None
            heapq.heappush(events, (assignment.release_at, order, "hold", assignment.conversation_id))
            order += 1
    return waits


@pytest.mark.parametrize("rate", [0.5, 0.8])
def test_understaffed_assignment_wait_follows_erlang_c_within_ten_percent(rate):
    settings, _ = build_settings("understaffed")
    assert settings.seats and settings.handle_s
    desk = Desk(
        strategy=settings.assignment, agent_cap=settings.agent_cap, seats=settings.seats, handle_s=settings.handle_s,
        seed=settings.seed,
    )  # fmt: skip
    for seat in range(settings.seats):
        desk.online(f"agent-{seat}", 0.0)
    servers = settings.seats * settings.agent_cap
    waits = simulate(desk, rate, 60_000, seed=7)
    expected = mm_c_wait(servers, rate, settings.handle_s)
    waited = sum(1 for w in waits if w > 1e-12) / len(waits)
    mean = sum(waits) / len(waits)
    within_5 = sum(1 for w in waits if w <= 5.0) / len(waits)
    assert waited == pytest.approx(expected["p_wait"], rel=0.10)
    assert mean == pytest.approx(expected["mean_wait_s"], rel=0.10)
    assert within_5 == pytest.approx(expected["within_5s"], rel=0.10)


def test_the_understaffed_docstring_states_the_figures_its_settings_give():
    settings, _ = build_settings("understaffed")
    assert settings.seats is not None and settings.handle_s is not None
    figures = mm_c_wait(settings.seats * settings.agent_cap, 0.8, settings.handle_s)
    text = " ".join(truth("understaffed").split())
    assert f"P(wait) = {figures['p_wait']:.3f}" in text
    assert f"mean wait {figures['mean_wait_s']:.2f} s" in text
    assert f"{100 * figures['within_3s']:.1f}% assigned within 3 s" in text
    assert f"{100 * figures['within_5s']:.1f}% within 5 s" in text
    assert figures["within_5s"] < 0.8  # below market-figures.md #11's 80% within 5 s
