"""Simulated customers from Faker, several locales, identical for the same ``--seed``.

WhatsApp ids are digits with the country code and no '+': Faker's formatted phone numbers differ per locale, so
the number is built from the locale's country code and seeded digits; Faker supplies names and message texts.

Those numbers are invented, which is right only while every send reaches the mock. A profile's ``recipients``
(the buyer's own test phones, required for a hosted vendor: ``VendorProfile.fixed_recipients``) replace them: the
book is then exactly those numbers, in order, and nobody else is ever addressed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from faker import Faker

# locale -> (country calling code, subscriber digits)
LOCALES: dict[str, tuple[str, int]] = {
    "en_US": ("1", 10),
    "de_DE": ("49", 10),
    "pt_BR": ("55", 11),
    "es_MX": ("52", 10),
    "id_ID": ("62", 10),
    "en_IN": ("91", 10),
}

QUESTIONS = (
    "Do you have a discount code?",
    "What is the price of the blue one?",
    "Where is my order?",
    "Can I change my delivery address?",
    "Is this still in stock?",
)


@dataclass(frozen=True)
class Customer:
    wa_id: str
    name: str
    locale: str


class CustomerBook:
    """A fixed population; ``customer(i)`` is the same person for the same seed on every worker."""

    def __init__(self, size: int, *, seed: int = 0, recipients: Sequence[str] = ()) -> None:
        if size < 1:
            raise ValueError("a customer book needs at least one customer")
        self.size = size
        self.seed = seed
        faker = Faker(list(LOCALES))
        faker.seed_instance(seed)
        if recipients:  # the only people a send may reach: no number is generated
            self.size = len(recipients)
            self._customers: list[Customer] = []
            for position, number in enumerate(recipients):
                locale = list(LOCALES)[position % len(LOCALES)]
                self._customers.append(Customer(wa_id=number.lstrip("+"), name=faker[locale].name(), locale=locale))
            return
        rng = random.Random(f"scrmbench-customers-{seed}")
        customers: list[Customer] = []
        seen: set[str] = set()
        locales = list(LOCALES)
        while len(customers) < size:
            locale = locales[len(customers) % len(locales)]
            code, digits = LOCALES[locale]
            wa_id = code + str(rng.randrange(10 ** (digits - 1), 10**digits))
            if wa_id in seen:
                continue
            seen.add(wa_id)
            customers.append(Customer(wa_id=wa_id, name=faker[locale].name(), locale=locale))
        self._customers = customers

    def customer(self, index: int) -> Customer:
        return self._customers[index % self.size]

    def question(self, index: int) -> str:
        return QUESTIONS[index % len(QUESTIONS)]

    def __len__(self) -> int:
        return self.size
