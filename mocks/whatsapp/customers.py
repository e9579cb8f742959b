"""Customers as WhatsApp knows them: one identity per user (phone number, BSUID, optional username), and the 24 h
customer service window per business phone number (reference §4.5 and §9).

A BSUID is ``CC.`` plus digits, stable per user per business portfolio and derived from the seed, so two runs with
the same seed give the same ids. A customer who changes number gets a new BSUID (Meta's rule).

Memory is bounded: past ``max_customers`` the least recently used customer is forgotten with its windows (a
soak that writes to a new number each time would otherwise grow for ever). A forgotten customer who comes back
gets the same seed-derived BSUID again, without the username.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import OrderedDict
from dataclasses import dataclass

from mocks.whatsapp.errors import GraphError

WINDOW_S = 86_400.0
DAY_S = 86_400.0
_BSUID = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9.]{1,140}$")


def is_bsuid(value: str) -> bool:
    """``CC.`` and up to 128 alphanumerics (a parent BSUID has ``ENT.`` in it): never a phone number."""
    # On the send path for every message: a phone number is rejected by its third character, without the regex.
    return value[2:3] == "." and _BSUID.match(value) is not None


# Calling code -> ISO country, longest prefix first; enough to give BSUIDs a plausible country.
_COUNTRIES = {
    "1": "US", "7": "RU", "20": "EG", "27": "ZA", "30": "GR", "31": "NL", "33": "FR", "34": "ES", "39": "IT",
    "44": "GB", "49": "DE", "52": "MX", "54": "AR", "55": "BR", "57": "CO", "60": "MY", "61": "AU", "62": "ID",
    "63": "PH", "65": "SG", "66": "TH", "81": "JP", "82": "KR", "84": "VN", "86": "CN", "90": "TR", "91": "IN",
    "92": "PK", "234": "NG", "254": "KE", "351": "PT", "852": "HK", "966": "SA", "971": "AE",
}  # fmt: skip


def country_of(wa_id: str) -> str:
    for length in (3, 2, 1):
        country = _COUNTRIES.get(wa_id[:length])
        if country:
            return country
    return "US"


@dataclass
class Customer:
    wa_id: str  # phone number digits
    user_id: str  # BSUID
    username: str | None = None
    name: str = ""


class CustomerRegistry:
    """Phone number <-> BSUID <-> username, and when each customer last wrote to each business number."""

    def __init__(self, seed: int = 0, not_on_whatsapp_share: float = 0.0, max_customers: int = 500_000) -> None:
        self._seed = seed
        self.not_on_whatsapp_share = not_on_whatsapp_share
        self.max_customers = max_customers
        self._by_wa_id: OrderedDict[str, Customer] = OrderedDict()  # least recently used first
        self._by_user_id: dict[str, Customer] = {}
        self._by_username: dict[str, Customer] = {}
        self._last_inbound: dict[str, dict[str, float]] = {}  # wa_id -> phone number id -> last inbound time
        self._last_exchange: dict[str, float] = {}  # wa_id -> last message either way (phone withholding)
        self._unreachable: dict[str, float] = {}  # wa_id -> until when (mock clock) the phone cannot be reached

    def _bsuid(self, wa_id: str, salt: str = "") -> str:
        digest = hashlib.blake2b(f"{self._seed}:{salt}:{wa_id}".encode(), digest_size=8).digest()
        return f"{country_of(wa_id)}.{int.from_bytes(digest, 'big')}"

    def parent_user_id(self, customer: Customer) -> str:
        """The customer's parent BSUID (``CC.ENT.`` and digits), stable per seed and BSUID."""
        digest = hashlib.blake2b(f"{self._seed}:parent:{customer.user_id}".encode(), digest_size=8).digest()
        return f"{customer.user_id.split('.', 1)[0]}.ENT.{int.from_bytes(digest, 'big')}"

    def note_exchange(
        self, customer: Customer, at: float, *, by_phone: bool, withhold_after_days: float | None, usernames_only: bool
    ) -> bool:
        """A message goes between the business and ``customer`` at ``at``: True when its webhooks must leave the
        phone number out, i.e. no message was exchanged in the ``withhold_after_days`` before (None: never) and the
        business did not address the customer by phone number; only customers with a username when
        ``usernames_only``. Every call counts as an exchange for the next one."""
        last = self._last_exchange.get(customer.wa_id)
        self._last_exchange[customer.wa_id] = at if last is None else max(last, at)
        if withhold_after_days is None or by_phone or (usernames_only and not customer.username):
            return False
        return last is None or at - last > withhold_after_days * DAY_S

    def get_or_create(self, wa_id: str, *, name: str = "", username: str | None = None) -> Customer:
        customer = self._by_wa_id.get(wa_id)
        if customer is None:
            customer = Customer(wa_id=wa_id, user_id=self._bsuid(wa_id), name=name)
            self._by_wa_id[wa_id] = customer
            self._by_user_id[customer.user_id] = customer
            if len(self._by_wa_id) > self.max_customers:
                self._forget_oldest()
        else:
            self._by_wa_id.move_to_end(wa_id)
        if username and customer.username != username:
            self.set_username(customer, username)
        if name and not customer.name:
            customer.name = name
        return customer

    def _forget_oldest(self) -> None:
        wa_id, old = self._by_wa_id.popitem(last=False)
        self._by_user_id.pop(old.user_id, None)
        if old.username:
            self._by_username.pop(old.username, None)
        self._last_inbound.pop(wa_id, None)
        self._last_exchange.pop(wa_id, None)

    def set_username(self, customer: Customer, username: str | None) -> None:
        if customer.username:
            self._by_username.pop(customer.username, None)
        customer.username = username
        if username:
            self._by_username[username] = customer

    def change_number(self, old_wa_id: str, new_wa_id: str) -> Customer:
        """The customer moves to a new phone number and, per Meta, gets a new BSUID (derived from the old one)."""
        old = self._by_wa_id.pop(old_wa_id, None)
        if old is not None:
            self._by_user_id.pop(old.user_id, None)
            self._last_inbound.pop(old_wa_id, None)
        stale = self._by_wa_id.pop(new_wa_id, None)
        if stale is not None:
            self._by_user_id.pop(stale.user_id, None)
        customer = Customer(
            wa_id=new_wa_id,
            user_id=self._bsuid(new_wa_id, salt=old.user_id if old else "moved"),
            name=old.name if old else "",
        )
        self._by_wa_id[new_wa_id] = customer
        self._by_user_id[customer.user_id] = customer
        if old is not None and old.username:
            self.set_username(customer, old.username)
        return customer

    def by_user_id(self, user_id: str) -> Customer | None:
        return self._by_user_id.get(user_id)

    def by_username(self, username: str) -> Customer | None:
        return self._by_username.get(username)

    def by_wa_id(self, wa_id: str) -> Customer | None:
        return self._by_wa_id.get(wa_id)

    def resolve(self, to: str | None, recipient: str | None, *, to_is_bsuid: bool | None = None) -> Customer:
        """The customer a send addresses: ``to`` (phone number, a leading + allowed, or a BSUID) or ``recipient``
        (BSUID). ``to_is_bsuid``: ``is_bsuid(to)`` when the caller knows it already (the send path)."""
        if to is not None and (is_bsuid(to) if to_is_bsuid is None else to_is_bsuid):
            to, recipient = None, to
        if to is not None:
            digits = to[1:] if to[:1] == "+" else to
            if not digits.isdigit() or not 5 <= len(digits) <= 15:
                raise GraphError(100, f"Invalid parameter: to must be a phone number in E.164 digits, got {to!r}")
            customer = self._by_wa_id.get(digits)
            if customer is None:
                return self.get_or_create(digits)
            self._by_wa_id.move_to_end(digits)  # ``get_or_create`` of a known customer, without name or username
            return customer
        if recipient is None:
            raise GraphError(100, "The parameter to is required.", title="The parameter to is required.")
        customer = self._by_user_id.get(recipient)
        if customer is None:
            raise GraphError(131009, f"recipient {recipient!r} is not a known business-scoped user id")
        return customer

    def on_whatsapp(self, wa_id: str) -> bool:
        """False for a seed-stable share of numbers (``not_on_whatsapp_share``); those customers do not exist."""
        if self.not_on_whatsapp_share <= 0.0:
            return True
        bucket = zlib.crc32(f"{self._seed}:{wa_id}".encode()) % 10_000
        return bucket >= self.not_on_whatsapp_share * 10_000

    def note_inbound(self, phone_number_id: str, wa_id: str, at: float) -> None:
        """A customer wrote to a business number: its 24 h customer service window opens (or restarts)."""
        self.get_or_create(wa_id)
        self._last_inbound.setdefault(wa_id, {})[phone_number_id] = at

    def window_open(self, phone_number_id: str, wa_id: str, now: float) -> bool:
        windows = self._last_inbound.get(wa_id)
        last = windows.get(phone_number_id) if windows else None
        return last is not None and now - last < WINDOW_S

    def set_unreachable(self, wa_id: str, until: float | None) -> None:
        """The customer's phone cannot be reached until ``until`` (mock clock; None: reachable again). Messages to
        them wait, and are retried until then or until their time-to-live runs out (docs/whatsapp-2026.md §4)."""
        if until is None:
            self._unreachable.pop(wa_id, None)
        else:
            self._unreachable[wa_id] = until

    def unreachable_until(self, wa_id: str, now: float) -> float | None:
        """Until when the customer cannot be reached, or None when they can be now."""
        until = self._unreachable.get(wa_id)
        if until is None:
            return None
        if until <= now:
            del self._unreachable[wa_id]
            return None
        return until

    def reset(self) -> None:
        self._unreachable.clear()
        self._by_wa_id.clear()
        self._by_user_id.clear()
        self._by_username.clear()
        self._last_inbound.clear()
        self._last_exchange.clear()

    def __len__(self) -> int:
        return len(self._by_wa_id)
