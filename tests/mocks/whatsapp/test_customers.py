"""The identity registry: one identity per customer (phone number, BSUID, username), windows, bounded memory."""

from __future__ import annotations

import re

from mocks.whatsapp.customers import CustomerRegistry, country_of


def test_bsuids_are_stable_per_seed_and_well_formed() -> None:
    first, again, other = CustomerRegistry(seed=1), CustomerRegistry(seed=1), CustomerRegistry(seed=2)
    bsuid = first.get_or_create("5511912345678").user_id
    assert re.fullmatch(r"[A-Z]{2}\.[0-9]{1,128}", bsuid) and bsuid.startswith("BR.")
    assert again.get_or_create("5511912345678").user_id == bsuid
    assert other.get_or_create("5511912345678").user_id != bsuid
    assert (country_of("4915112345678"), country_of("971501234567"), country_of("15551234567")) == ("DE", "AE", "US")


def test_one_identity_reachable_by_phone_bsuid_and_username() -> None:
    registry = CustomerRegistry()
    customer = registry.get_or_create("4915112345678", name="Ann", username="ann.k")
    assert registry.by_user_id(customer.user_id) is customer
    assert registry.by_username("ann.k") is customer
    assert registry.resolve(None, customer.user_id) is customer
    assert registry.resolve("+4915112345678", None) is customer


def test_a_new_number_gets_a_new_bsuid_and_keeps_the_username() -> None:
    registry = CustomerRegistry()
    old = registry.get_or_create("4915112345678", username="ann.k")
    moved = registry.change_number("4915112345678", "4915199999999")
    assert moved.user_id != old.user_id and moved.username == "ann.k"
    assert registry.by_user_id(old.user_id) is None and registry.by_username("ann.k") is moved


def test_windows_are_per_business_number() -> None:
    registry = CustomerRegistry()
    registry.note_inbound("p1", "49151", 1000.0)
    assert registry.window_open("p1", "49151", 1000.0 + 86_399)
    assert not registry.window_open("p1", "49151", 1000.0 + 86_400)
    assert not registry.window_open("p2", "49151", 1001.0)


def test_memory_is_bounded_by_forgetting_the_least_recently_used() -> None:
    registry = CustomerRegistry(max_customers=3)
    for number in ("491", "492", "493"):
        registry.note_inbound("p", number, 0.0)
    registry.get_or_create("491")  # used again: now the most recent
    registry.get_or_create("494")
    assert len(registry) == 3
    assert registry.by_wa_id("492") is None and not registry.window_open("p", "492", 1.0)
    assert registry.window_open("p", "491", 1.0)
    returning = registry.get_or_create("492")
    assert returning.user_id == CustomerRegistry().get_or_create("492").user_id  # same seed-derived BSUID
