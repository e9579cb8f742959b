"""Inbound routing: keyword auto-replies and assignment of new conversations to agents."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from mocks.vendors.storage import Store


class AutoReplies:
    """The first keyword found in the text (case-insensitive, whole words) picks the reply.

    A message no keyword matches gets the ``fallback`` acknowledgement, as a real SCRM's "we got your message"
    first response does (market-figures.md #11: first response under 20 s), unless the fallback is None.
    """

    def __init__(self, rules: dict[str, str], fallback: str | None = None) -> None:
        self.rules = [(re.compile(rf"\b{re.escape(key.lower())}\b"), reply) for key, reply in rules.items()]
        self.fallback = fallback

    def reply_for(self, text: str) -> str | None:
        lowered = text.lower()
        for pattern, reply in self.rules:
            if pattern.search(lowered):
                return reply
        return self.fallback


class Assigner:
    """Round-robin over the agents, or the agent with the fewest conversations (read from the database)."""

    def __init__(self, agents: list[str], strategy: str, store: Store) -> None:
        self.agents = list(agents)
        self.strategy = strategy
        self.store = store
        self._cycle: Iterator[str] = itertools.cycle(self.agents)

    def pick(self) -> str:
        if self.strategy in ("least-loaded", "least-busy"):
            loads = self.store.agent_loads(self.agents)
            # Ties go to the earlier agent in the list, so the choice is deterministic.
            return min(self.agents, key=lambda agent: (loads[agent], self.agents.index(agent)))
        return next(self._cycle)
