"""Which business number each send goes out from: a profile's numbers and the spread of the load over them.

One admin runs 50–200 numbers (market-figures.md #11/#12), and WhatsApp paces each number on its own (80 msg/s
throughput, one message per 6 s to one customer, the pair rate; whatsapp-cloud-api.md §4). So every scenario
spreads its sends over all of the profile's numbers, and each request record names the number it used.

The spread is a fixed cycle (smooth weighted round-robin, as nginx balances upstreams): in every cycle of
``sum(weights)`` slots each number appears ``weight`` times, interleaved as evenly as the weights allow (equal
weights: plain round-robin). Worker ``w`` of ``W`` takes the cycle's slots ``offset + w``, ``offset + w + W``,
``offset + w + 2W``, ... for its 0th, 1st, 2nd, ... send, where ``offset`` comes from the run's seed; so the
workers together walk the cycle slot by slot and, over any whole number of cycles, each number carries exactly
its weight's share of the sends. Nothing is random per send: the same seed gives the same number for the same
(worker, sequence).

That is the ``round_robin`` spread. The default, ``customer``, is how a business uses its numbers: each customer
hears from one number, always the same (the number their conversation is on), picked by a seeded hash of the
customer's WhatsApp id onto the same weighted cycle, so over many customers each number carries about its
weight's share, and every worker picks the same number for the same customer. It matters for what WhatsApp
paces: the pair rate (one message per 6 s to one customer) counts per number and customer, so round-robin sends to
one busy customer from many numbers would soften it. A call with no customer (a media upload) takes the
round-robin turn in either spread.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

MAX_NUMBERS = 500  # a profile's numbers (the checklist asks for 200; room above it, bounded)
MAX_WEIGHT = 100  # a number's weight; the cycle is at most MAX_NUMBERS × MAX_WEIGHT slots
SpreadName = Literal["customer", "round_robin"]
SPREADS: tuple[str, ...] = get_args(SpreadName)


@dataclass(frozen=True, slots=True)
class BusinessNumber:
    """A number the business sends from: E.164 ``number`` and the Cloud API phone-number ``id`` behind it.

    ``id`` is the profile's ``id`` when given, else the number's digits (what the run's mock is configured with)."""

    number: str
    id: str
    weight: int = 1

    @property
    def digits(self) -> str:
        return self.number.lstrip("+")


def spread_cycle(weights: Sequence[int]) -> tuple[int, ...]:
    """The indexes of one cycle of the smooth weighted round-robin over ``weights`` (each ≥ 1)."""
    if not weights:
        raise ValueError("a spread needs at least one number")
    if any(weight < 1 or weight > MAX_WEIGHT for weight in weights):
        raise ValueError(f"weights are whole numbers 1..{MAX_WEIGHT}, got {list(weights)}")
    if len(set(weights)) == 1:
        return tuple(range(len(weights)))
    total = sum(weights)
    current = [0] * len(weights)
    order: list[int] = []
    for _ in range(total):
        for index, weight in enumerate(weights):
            current[index] += weight
        best = max(range(len(weights)), key=lambda i: (current[i], -i))
        current[best] -= total
        order.append(best)
    return tuple(order)


def seeded_offset(seed: int, size: int) -> int:
    """Where in the cycle a run starts, from its seed (stable across processes and Python versions)."""
    digest = hashlib.sha256(f"scrmbench-numbers-{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % size


class NumberSpread:
    """The number of each send of one worker: ``pick_for(customer, sequence)`` for the worker's ``sequence``-th
    send to ``customer`` (``pick(sequence)`` for a call with no customer)."""

    def __init__(
        self,
        numbers: Sequence[BusinessNumber],
        *,
        seed: int = 0,
        worker_index: int = 0,
        worker_count: int = 1,
        spread: SpreadName = "customer",
    ) -> None:
        if spread not in SPREADS:
            raise ValueError(f"spread {spread!r}: one of {', '.join(SPREADS)}")
        if not numbers:
            raise ValueError("a spread needs at least one number")
        if len(numbers) > MAX_NUMBERS:
            raise ValueError(f"at most {MAX_NUMBERS} numbers, got {len(numbers)}")
        if not 0 <= worker_index < max(worker_count, 1):
            raise ValueError(f"worker {worker_index} of {worker_count}")
        self.numbers = tuple(numbers)
        self._cycle = spread_cycle([number.weight for number in self.numbers])
        self._start = seeded_offset(seed, len(self._cycle)) + worker_index
        self._step = max(worker_count, 1)
        self.spread = spread
        self._salt = f"scrmbench-customer-number-{seed}-".encode()

    def pick(self, sequence: int) -> BusinessNumber:
        """The round-robin number of the worker's ``sequence``-th call (whatever the spread)."""
        return self.numbers[self._cycle[(self._start + sequence * self._step) % len(self._cycle)]]

    def pick_for(self, customer: str, sequence: int) -> BusinessNumber:
        """The number of a call to or from ``customer``: theirs (``customer`` spread), or the round-robin turn."""
        if self.spread == "round_robin" or len(self.numbers) == 1:
            return self.pick(sequence)
        digest = hashlib.blake2b(self._salt + customer.encode(), digest_size=8).digest()
        return self.numbers[self._cycle[int.from_bytes(digest, "big") % len(self._cycle)]]

    @property
    def cycle_length(self) -> int:
        return len(self._cycle)
