"""Rate cards: what a delivered, billable message costs, by the recipient's country calling code and category.

A card is YAML (``analysis/presets/rates-meta.yaml`` is the shipped one, docs/whatsapp-2026.md §7), validated at
the edge: a negative price, an unknown category, a prefix that is not a calling code or a card without a
``source`` and ``as_of`` is a ``ConfigError`` naming the file, the field, the value and the fix (exit 2). The
longest prefix of the customer's phone number (``wa_id``) decides the market; a category a market leaves out is
unpriced there (counted, never taken as free).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ground.errors import ConfigError
from ground.loading import load_model, parse_yaml, validate

Category = Literal["marketing", "utility", "authentication", "service"]
CATEGORIES: tuple[Category, ...] = ("marketing", "utility", "authentication", "service")
SHIPPED = "rates-meta"
_PRICE = Field(default=None, ge=0, le=10)  # USD per message; a price above $10 is a typo (cents for dollars)


class Rate(BaseModel):
    """One market: its calling-code prefix and a USD price per category (a missing category is unpriced).
    ``service`` prices billable service messages (the reported October 2026 change); without it they take the
    utility price."""

    model_config = ConfigDict(extra="forbid")

    prefix: str = Field(pattern=r"^[1-9][0-9]{0,3}$", description="country calling code, digits, no +")
    market: str = ""
    marketing: float | None = _PRICE
    utility: float | None = _PRICE
    authentication: float | None = _PRICE
    service: float | None = _PRICE
    source: str | None = None  # when this market's prices come from elsewhere than the card's source
    as_of: dt.date | None = None

    def price(self, category: str) -> float | None:
        if category == "service":
            return self.service if self.service is not None else self.utility
        return getattr(self, category, None) if category in CATEGORIES else None


class RateCard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    currency: Literal["USD"] = "USD"
    source: str = Field(min_length=1, description="where the prices come from (a page, a file)")
    as_of: dt.date
    notes: list[str] = Field(default_factory=list)
    rates: list[Rate] = Field(min_length=1)
    # The change partners report from 2026-10-01 (unconfirmed on Meta's pages, docs/whatsapp-2026.md §6): what the
    # ledger marks free inside the customer service window is charged (service messages at the ``service`` price,
    # else the utility one; utility templates at the utility price), except the first ``free_service_per_number_month``
    # service messages of each business number in a calendar month (UTC). Off: Meta's rules as published.
    october_2026: bool = False
    free_service_per_number_month: int = Field(default=1000, ge=0)

    @field_validator("rates")
    @classmethod
    def _unique(cls, rates: list[Rate]) -> list[Rate]:
        seen: set[str] = set()
        for rate in rates:
            if rate.prefix in seen:
                raise ValueError(f"prefix {rate.prefix} is given twice; keep one entry per calling code")
            seen.add(rate.prefix)
        return rates

    def market_of(self, phone: str) -> Rate | None:
        """The entry with the longest prefix of ``phone`` (E.164 digits), or None."""
        digits = phone.removeprefix("+")
        for length in (4, 3, 2, 1):
            rate = self._by_prefix().get(digits[:length])
            if rate is not None:
                return rate
        return None

    def _by_prefix(self) -> dict[str, Rate]:
        table: dict[str, Rate] | None = self.__dict__.get("_prefix_table")
        if table is None:
            table = {rate.prefix: rate for rate in self.rates}
            self.__dict__["_prefix_table"] = table
        return table

    def describe(self) -> dict[str, object]:
        described: dict[str, object] = {
            "name": self.name,
            "currency": self.currency,
            "source": self.source,
            "as_of": self.as_of.isoformat(),
        }
        if self.october_2026:
            described["october_2026"] = {"free_service_per_number_month": self.free_service_per_number_month}
        return described


@cache
def shipped_card() -> RateCard:
    text = resources.files("analysis.presets").joinpath(f"{SHIPPED}.yaml").read_text(encoding="utf-8")
    source = f"preset {SHIPPED}"
    return validate(RateCard, parse_yaml(text, source=source), source=source)


def load_rate_card(value: str | Path | None) -> RateCard:
    """``--rate-card``: None or ``rates-meta`` for the shipped card, else a YAML file."""
    if value is None or str(value) == SHIPPED:
        return shipped_card()
    path = Path(value)
    if not path.is_file():
        raise ConfigError(
            "no such rate card file",
            field="--rate-card",
            value=str(value),
            fix=f"give a YAML rate card (see analysis/presets/{SHIPPED}.yaml) or leave the option out",
        )
    return load_model(RateCard, path)
