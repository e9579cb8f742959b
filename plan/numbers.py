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
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

MAX_NUMBERS = 500  # a profile's numbers (the checklist asks for 200; room above it, bounded)
MAX_WEIGHT = 100  # a number's weight; the cycle is at most MAX_NUMBERS × MAX_WEIGHT slots


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
    """The number of each send of one worker: ``spread.pick(sequence)`` for the worker's ``sequence``-th send."""

    def __init__(
        self, numbers: Sequence[BusinessNumber], *, seed: int = 0, worker_index: int = 0, worker_count: int = 1
    ) -> None:
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

    def pick(self, sequence: int) -> BusinessNumber:
        return self.numbers[self._cycle[(self._start + sequence * self._step) % len(self._cycle)]]

    @property
    def cycle_length(self) -> int:
        return len(self._cycle)
