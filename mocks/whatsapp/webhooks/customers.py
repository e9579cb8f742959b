"""Simulated customers: names from Faker in several locales, E.164 numbers of real country codes and mobile
ranges, and message texts in English, German, French, Chinese, Spanish and Portuguese.

Customer ``i`` of seed ``s`` is always the same person (drawn from a stream seeded by (s, i), not from shared
state), so a burst of 3,000 customers is the same 3,000 in every run with that seed, whatever order they are
generated in. (The identity registry in ``mocks/whatsapp/customers.py`` is a different thing: it gives each
phone number its BSUID and tracks the 24 h window.)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from faker import Faker

# locale -> (share, language, E.164 prefix of a mobile range, random digits after it)
# Prefixes are real country codes with real mobile leading digits, so vendors' phone validation accepts them.
LOCALES: dict[str, tuple[float, str, tuple[str, ...], int]] = {
    "en_US": (0.14, "en", ("1201", "1212", "1310", "1415", "1512", "1617", "1702", "1917"), 7),
    "en_GB": (0.06, "en", ("447700", "447400", "447500", "447800", "447900"), 6),
    "en_IN": (0.10, "en", ("9198", "9197", "9199", "9190", "9188", "9170"), 8),
    "de_DE": (0.14, "de", ("49151", "49152", "49160", "49170", "49171", "49176"), 8),
    "fr_FR": (0.12, "fr", ("336", "337"), 8),
    "zh_CN": (0.14, "zh", ("86138", "86139", "86150", "86186", "86131"), 8),
    "es_ES": (0.08, "es", ("346", "347"), 8),
    "es_MX": (0.07, "es", ("521551", "521331", "521811"), 7),
    "pt_BR": (0.11, "pt", ("551199", "552199", "553198", "554199"), 7),
    "pt_PT": (0.04, "pt", ("35191", "35193", "35196"), 7),
}

LANGUAGES = ("en", "de", "fr", "zh", "es", "pt")

# What customers of a shop write, by intent; the first intent is the headline test's question.
PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        "Hi, do you have a discount code?",
        "Where is my order?",
        "What are your opening hours today?",
        "I would like to return an item.",
        "How much is the delivery to my address?",
        "Can I talk to a person, please?",
    ),
    "de": (
        "Hallo, habt ihr einen Rabattcode?",
        "Wo ist meine Bestellung?",
        "Wie sind heute eure Öffnungszeiten?",
        "Ich möchte einen Artikel zurückgeben.",
        "Was kostet die Lieferung zu meiner Adresse?",
        "Kann ich bitte mit einem Menschen sprechen?",
    ),
    "fr": (
        "Bonjour, avez-vous un code de réduction ?",
        "Où en est ma commande ?",
        "Quels sont vos horaires d'ouverture aujourd'hui ?",
        "Je voudrais retourner un article.",
        "Combien coûte la livraison à mon adresse ?",
        "Puis-je parler à un conseiller, s'il vous plaît ?",
    ),
    "zh": (
        "你好，有优惠码吗？",
        "我的订单到哪里了？",
        "你们今天几点营业？",
        "我想退货。",
        "寄到我的地址运费多少？",
        "可以转人工客服吗？",
    ),
    "es": (
        "Hola, ¿tienen un código de descuento?",
        "¿Dónde está mi pedido?",
        "¿Cuál es su horario de hoy?",
        "Quiero devolver un artículo.",
        "¿Cuánto cuesta el envío a mi dirección?",
        "¿Puedo hablar con una persona, por favor?",
    ),
    "pt": (
        "Olá, vocês têm um código de desconto?",
        "Onde está o meu pedido?",
        "Qual é o horário de funcionamento hoje?",
        "Quero devolver um artigo.",
        "Quanto custa a entrega para o meu endereço?",
        "Posso falar com um atendente, por favor?",
    ),
}


@dataclass(frozen=True, slots=True)
class SimulatedCustomer:
    index: int
    wa_id: str  # E.164 digits without '+'
    name: str
    locale: str
    language: str


class SimulatedCustomers:
    def __init__(self, seed: int = 0, locales: list[str] | None = None) -> None:
        chosen = locales or list(LOCALES)
        unknown = [name for name in chosen if name not in LOCALES]
        if unknown:
            raise ValueError(f"unknown customer locales {unknown}; choose from {sorted(LOCALES)}")
        self.seed = seed
        self.locales = chosen
        self.weights = [LOCALES[name][0] for name in chosen]
        self._fakers: dict[str, Faker] = {}

    def _faker(self, locale: str) -> Faker:
        fake = self._fakers.get(locale)
        if fake is None:  # building a Faker costs milliseconds; one per locale, reseeded per customer
            fake = self._fakers[locale] = Faker(locale)
        return fake

    def customer(self, index: int) -> SimulatedCustomer:
        rng = random.Random(f"{self.seed}:customer:{index}")
        locale = rng.choices(self.locales, weights=self.weights)[0]
        _, language, prefixes, digits = LOCALES[locale]
        wa_id = rng.choice(prefixes) + "".join(str(rng.randrange(10)) for _ in range(digits))
        fake = self._faker(locale)
        fake.seed_instance(rng.getrandbits(63))
        return SimulatedCustomer(index=index, wa_id=wa_id, name=fake.name(), locale=locale, language=language)

    def text(self, customer: SimulatedCustomer, message_index: int = 0, intent: int | None = None) -> str:
        """What ``customer`` writes; ``intent`` 0 is "do you have a discount code?"."""
        phrases = PHRASES[customer.language]
        if intent is None:
            intent = random.Random(f"{self.seed}:text:{customer.index}:{message_index}").randrange(len(phrases))
        return phrases[intent % len(phrases)]

    def name_for(self, wa_id: str) -> str:
        """A stable Faker name for a number the caller chose (when a request gives no ``profile_name``)."""
        rng = random.Random(f"{self.seed}:name:{wa_id}")
        fake = self._faker(rng.choice(self.locales))
        fake.seed_instance(rng.getrandbits(63))
        return str(fake.name())
