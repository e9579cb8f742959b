"""Rate cards (analysis/rates.py) and what the traffic cost (analysis/cost.py), docs/whatsapp-2026.md §7."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import accounting as acc
from analysis.cost import cost, market_index, pool
from analysis.rates import RateCard, load_rate_card, shipped_card
from ground.errors import EXIT_BAD_INPUT, ConfigError
from tests.analysis import frames as f

CARD = RateCard.model_validate(
    {
        "name": "test",
        "source": "tests",
        "as_of": "2026-10-01",
        "rates": [
            {"prefix": "49", "marketing": 0.10, "utility": 0.02, "authentication": 0.03},
            {"prefix": "1", "marketing": 0.025, "utility": 0.004},
        ],
    }
)


def test_the_shipped_card_is_valid_dated_and_sourced_and_its_prices_are_plausible() -> None:
    card = shipped_card()
    assert card.source and card.as_of.year >= 2025 and card.currency == "USD"
    prices = [p for rate in card.rates for p in (rate.marketing, rate.utility, rate.authentication) if p is not None]
    # The brief's seed range is $0.0053-0.1732 per message. Every shipped price is at most its top, and every
    # marketing price inside it; Meta's cheapest utility/authentication rates ($0.0040 for Algeria, Angola and,
    # unconfirmed, North America) lie below its bottom, so that bound holds for marketing only.
    assert all(0 < price <= 0.1732 for price in prices)
    assert all(0.0053 <= rate.marketing <= 0.1732 for rate in card.rates if rate.marketing is not None)
    assert load_rate_card(None) is card and load_rate_card("rates-meta") is card


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"prefix": "49", "marketing": -0.1}, "rates.0.marketing"),
        ({"prefix": "49", "marketting": 0.1}, "rates.0.marketting"),
        ({"prefix": "+49", "marketing": 0.1}, "rates.0.prefix"),
        ({"prefix": "0049", "marketing": 0.1}, "rates.0.prefix"),
    ],
)
def test_a_bad_card_is_a_config_error_naming_file_field_value_and_fix(
    tmp_path: Path, entry: dict[str, object], field: str
) -> None:
    path = tmp_path / "card.yaml"
    key, value = next((k, v) for k, v in entry.items() if k != "prefix")
    path.write_text(
        f"name: bad\nsource: tests\nas_of: 2026-10-01\nrates:\n  - prefix: '{entry['prefix']}'\n    {key}: {value}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_rate_card(str(path))
    error = caught.value
    assert error.exit_code == EXIT_BAD_INPUT and error.field == field and error.fix
    assert str(path) in str(error) and error.line is not None


def test_a_missing_card_file_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="--rate-card"):
        load_rate_card("no/such/card.yaml")


def ledger_rows() -> list[dict[str, object]]:
    de, us, br = "4915100000001", "14155550100", "5511990000001"
    return [
        f.arrival("sb-aaaaaa-1", 1, wa_id=de, category="marketing", billable=True),  # 0.10
        f.arrival("sb-aaaaaa-1", 2, wa_id=de, category="marketing", billable=True),  # duplicate 0.10
        f.arrival("sb-aaaaaa-2", 3, wa_id=us, category="utility", billable=True),  # 0.004
        f.arrival("sb-aaaaaa-2", 4, wa_id=us, category="utility", billable=True),  # re-sent after a timeout 0.004
        f.arrival("sb-aaaaaa-3", 5, wa_id=us, category="service", billable=False),  # free
        f.arrival("sb-aaaaaa-4", 6, wa_id=de, category="authentication", billable=True, async_error_code=131026),
        f.arrival("sb-aaaaaa-5", 7, wa_id=br, category="marketing", billable=True),  # no market on the card
        f.arrival("sb-aaaaaa-6", 8, wa_id=us, category="authentication", billable=True),  # no price there
    ]


def test_cost_prices_charged_messages_and_the_waste() -> None:
    requests = f.requests(
        [
            f.request(0, correlation_id="sb-aaaaaa-1"),
            f.request(0, correlation_id="sb-aaaaaa-2", ok=False, outcome="indeterminate"),
            *(f.request(0, correlation_id=f"sb-aaaaaa-{n}") for n in (3, 4, 5, 6)),
        ]
    )
    ledger = f.ledger(ledger_rows())
    section = cost(ledger, acc.message_table(requests, ledger), CARD)
    assert section["measured"] and section["outbound"] == 8
    assert (section["charged"], section["not_delivered"], section["unpriced"]) == (6, 1, 2)
    assert section["total_usd"] == pytest.approx(0.208)
    assert section["by_category"]["marketing"] == {"messages": 3, "unpriced": 1, "cost_usd": pytest.approx(0.2)}
    assert section["by_market"]["49"]["cost_usd"] == pytest.approx(0.2)
    assert section["unpriced_markets"] == ["1", "none"]
    assert section["duplicates"] == {"copies": 2, "charged": 2, "cost_usd": pytest.approx(0.104)}
    assert section["resent_after_failure"] == {"copies": 1, "charged": 1, "cost_usd": pytest.approx(0.004)}
    # Five distinct messages delivered (tokens 1, 2, 3, 5, 6; 4 failed): 0.208 / 5 * 1000.
    assert section["delivered_messages"] == 5
    assert section["cost_per_1000_delivered_usd"] == pytest.approx(0.208 / 5 * 1000, rel=1e-5)


def test_a_message_re_sent_after_a_timeout_that_a_retry_then_got_through_is_costed_as_re_sent() -> None:
    de = "4915100000001"
    ledger = f.ledger(
        [
            f.arrival("sb-bbbbbb-1", 1, wa_id=de, category="marketing", billable=True),  # the first copy went through
            f.arrival("sb-bbbbbb-1", 3, wa_id=de, category="marketing", billable=True),  # sent again after the timeout
            f.arrival("sb-bbbbbb-2", 4, wa_id=de, category="utility", billable=True),
            f.arrival("sb-bbbbbb-2", 5, wa_id=de, category="utility", billable=True),  # a duplicate, no failure seen
        ]
    )
    requests = f.requests(
        [
            f.request(0, correlation_id="sb-bbbbbb-1", ok=False, outcome="indeterminate"),  # timed out
            f.request(2, correlation_id="sb-bbbbbb-1"),  # the client's retry: ok, the best answer
            f.request(4, correlation_id="sb-bbbbbb-2"),
        ]
    )
    messages = acc.message_table(requests, ledger)
    section = cost(ledger, messages, CARD, requests)
    assert section["duplicates"] == {"copies": 2, "charged": 2, "cost_usd": pytest.approx(0.12)}
    assert section["resent_after_failure"] == {"copies": 1, "charged": 1, "cost_usd": pytest.approx(0.10)}
    # From the best answer per token alone (no request records), the timed-out first attempt is not visible.
    assert cost(ledger, messages, CARD)["resent_after_failure"]["copies"] == 0


def test_the_october_2026_card_switch_charges_what_the_window_made_free_less_the_monthly_allowance() -> None:
    de, free = "4915100000001", {"billable": False, "pricing_type": "free_customer_service"}
    rows = [
        # Three service replies from number "1" in one month, one from number "2", one the next month (31 days on).
        *(f.arrival(f"sb-cccccc-{n}", n, wa_id=de, category="service", **free) for n in range(3)),
        f.arrival("sb-cccccc-3", 3, wa_id=de, category="service", phone_number_id="2", **free),
        f.arrival("sb-cccccc-4", 31 * 86_400, wa_id=de, category="service", **free),
        f.arrival("sb-cccccc-5", 5, wa_id=de, category="utility", **free),  # a utility template inside the window
        f.arrival("sb-cccccc-6", 6, wa_id=de, category="marketing", billable=True, pricing_type="regular"),
    ]
    ledger = f.ledger(rows)
    messages = acc.message_table(f.requests([]), ledger)
    published = cost(ledger, messages, CARD)
    assert published["charged"] == 1 and published["total_usd"] == pytest.approx(0.10)
    october = CARD.model_copy(update={"october_2026": True, "free_service_per_number_month": 2})
    section = cost(ledger, messages, october)
    # Number "1": 2 of its 3 service replies in the first month are free; number "2" and the next month: free too.
    assert section["free_service_allowance"] == 4
    assert section["charged"] == 3  # one service reply (utility price 0.02), the utility template, the marketing one
    assert section["by_category"]["service"] == {"messages": 1, "unpriced": 0, "cost_usd": pytest.approx(0.02)}
    assert section["total_usd"] == pytest.approx(0.02 + 0.02 + 0.10)
    assert section["rate_card"]["october_2026"] == {"free_service_per_number_month": 2}
    no_allowance = CARD.model_copy(update={"october_2026": True, "free_service_per_number_month": 0})
    assert cost(ledger, messages, no_allowance)["charged"] == 7


def test_a_ledger_without_pricing_is_not_measured() -> None:
    ledger = f.ledger([f.arrival("sb-aaaaaa-1", 1)])
    section = cost(ledger, acc.message_table(f.requests([]), ledger), CARD)
    assert section["measured"] is False and section["rate_card"]["name"] == "test"


@pytest.mark.parametrize(
    ("entry", "field", "value"),
    [
        ("marketing: -1", "rates.0.marketing", "-1"),  # a negative price
        ("authentication_international: 0.05", "rates.0.authentication_international", "0.05"),  # unknown category
    ],
)
def test_score_refuses_a_bad_rate_card_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: str, field: str, value: str
) -> None:
    from harness.cli import main

    card = tmp_path / "card.yaml"
    card.write_text(f"name: bad\nsource: tests\nas_of: 2026-10-01\nrates:\n  - {{prefix: '49', {entry}}}\n")
    assert main(["score", str(tmp_path), "--rate-card", str(card)]) == EXIT_BAD_INPUT
    said = " ".join(capsys.readouterr().err.split())
    assert str(card) in said and field in said and value in said and "Fix:" in said


def _section(charged: int, unpriced: int, total: float, delivered: int, dup_charged: int, dup_cost: float) -> dict:
    return {
        "measured": True,
        "rate_card": {"name": "rates-meta", "currency": "USD", "source": "meta", "as_of": "2025-07-01"},
        "charged": charged,
        "unpriced": unpriced,
        "unpriced_markets": ["880"] if unpriced else [],
        "total_usd": total,
        "delivered_messages": delivered,
        "duplicates": {"copies": dup_charged, "charged": dup_charged, "cost_usd": dup_cost},
    }


def test_pooled_cost_is_summed_over_runs_and_says_how_far_it_is_priced() -> None:
    priced = pool([_section(100, 0, 2.0, 100, 4, 0.08), _section(300, 0, 4.0, 300, 0, 0.0), None])
    assert priced["status"] == "priced" and priced["runs"] == 2 and not priced["cards_differ"]
    assert priced["per_1000_delivered_usd"] == pytest.approx(15.0)  # $6 over 400 delivered
    assert priced["duplicates_usd"] == pytest.approx(0.08)
    partly = pool([_section(100, 25, 1.5, 100, 2, 0.03)])
    assert partly["status"] == "partly_priced" and partly["unpriced_share"] == pytest.approx(0.25)
    assert partly["unpriced_markets"] == ["880"]
    # Nothing priced: no figure, never a $0 that reads as free.
    unpriced = pool([_section(50, 50, 0.0, 50, 3, 0.0)])
    assert unpriced["status"] == "unpriced"
    assert unpriced["per_1000_delivered_usd"] is None and unpriced["duplicates_usd"] is None
    assert pool([None, {"measured": False}])["status"] == "not_measured"


@given(
    st.lists(st.one_of(st.none(), st.from_regex(r"\+?[0-9]{0,8}", fullmatch=True), st.text(max_size=6)), max_size=40)
)
def test_the_vectorised_market_lookup_agrees_with_the_cards_own_longest_prefix_rule(numbers: list[str | None]) -> None:
    card = shipped_card()
    found = market_index(pa.array(["" if n is None else n.removeprefix("+") for n in numbers], pa.large_string()), card)
    expected = [card.market_of(n or "") for n in numbers]
    assert [card.rates[i].prefix if i >= 0 else None for i in found] == [r.prefix if r else None for r in expected]


def test_a_segment_broadcast_to_customers_outside_the_segment_is_a_waste_item() -> None:
    de, us, other = "4915100000001", "14155550100", "4915100000009"
    ledger = f.ledger(
        [
            f.arrival("sb-aaaaaa-9", 1, wa_id=de, category="marketing", billable=True),  # a member: 0.10
            f.arrival("sb-aaaaaa-9", 2, wa_id=us, category="marketing", billable=True),  # a member: 0.025
            f.arrival("sb-aaaaaa-9", 3, wa_id=other, category="marketing", billable=True),  # outside: 0.10 wasted
        ]
    )
    requests = f.requests([f.request(0, correlation_id="sb-aaaaaa-1")])
    segment = ("sb-aaaaaa-9", frozenset({de, us}))
    section = cost(ledger, acc.message_table(requests, ledger), CARD, segment=segment)
    assert section["outside_segment"] == {"copies": 1, "charged": 1, "cost_usd": pytest.approx(0.10)}
    assert cost(ledger, acc.message_table(requests, ledger), CARD)["outside_segment"] is None  # no segment: none
    pooled = pool([section, section])
    assert pooled["outside_segment_usd"] == pytest.approx(0.20) and pooled["outside_segment_copies"] == 2
