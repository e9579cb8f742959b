"""The linear-time paths the scoring of big runs relies on (token numbering, grouped percentiles): the same
answers as the hash-based or sorting calls they replaced, and the cost section the same with or without shared token
numbers, categorical or plain text columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import accounting as acc
from analysis import stats
from analysis.cost import cost
from analysis.rates import RateCard
from tests.analysis import frames as f

CARD = RateCard.model_validate(
    {
        "name": "test",
        "source": "tests",
        "as_of": "2026-10-01",
        "rates": [{"prefix": "49", "marketing": 0.10, "utility": 0.02}, {"prefix": "1", "marketing": 0.025}],
    }
)


@given(
    st.integers(min_value=1, max_value=30).flatmap(
        lambda size: st.tuples(st.just(size), st.lists(st.integers(0, size - 1), max_size=200))
    )
)
def test_first_appearance_numbers_values_as_pandas_factorize_does(case: tuple[int, list[int]]) -> None:
    size, values = case
    codes = np.asarray(values, dtype="int64")
    numbered, stands_for = acc.first_appearance(codes, size)
    expected_codes, expected_uniques = pd.factorize(codes)
    assert numbered.tolist() == expected_codes.tolist()
    assert stands_for.tolist() == expected_uniques.tolist()


def _run() -> tuple[pd.DataFrame, pd.DataFrame]:
    de, us = "+4915100000001", "14155550100"
    ledger = f.ledger(
        [
            f.arrival("sb-cccccc-1", 1, wa_id=de, category="marketing", billable=True),
            f.arrival("sb-cccccc-1", 3, wa_id=de, category="marketing", billable=True),  # re-sent after a timeout
            f.arrival("sb-cccccc-2", 4, recipient=us, category="marketing", billable=True),  # no wa_id: recipient
            f.arrival("sb-cccccc-2", 2, wa_id=us, category="marketing", billable=True),  # earlier: the first copy
            f.arrival("", 5, wa_id=de, category="utility", billable=True),  # an empty token is no token
            f.arrival("", 6, wa_id=de, category="utility", billable=True),
            f.arrival("-", 7, wa_id="880123", category="utility", billable=True, correlation_id=None),  # no market
            f.arrival("sb-cccccc-3", 8, wa_id=de, category="utility", billable=True, async_error_code=131026),
        ]
    )
    requests = f.requests(
        [
            f.request(0, correlation_id="sb-cccccc-1", ok=False, outcome="indeterminate"),
            f.request(2, correlation_id="sb-cccccc-1"),
            f.request(1, correlation_id="sb-cccccc-2"),
            f.request(7, correlation_id="sb-cccccc-3"),
        ]
    )
    return requests, ledger


@pytest.mark.parametrize("categorical", [False, True])
def test_the_cost_section_is_the_same_with_shared_token_numbers_as_without(categorical: bool) -> None:
    requests, ledger = _run()
    if categorical:  # as load_run reads them
        for name in ("wa_id", "recipient", "category", "direction"):
            ledger[name] = ledger[name].astype("category")
    tokens = acc.token_codes(requests, ledger)
    messages = acc.message_table(requests, ledger, tokens)
    shared = cost(ledger, messages, CARD, requests, tokens)
    assert shared == cost(ledger, messages, CARD, requests)
    assert shared["duplicates"]["copies"] == 2 and shared["resent_after_failure"]["copies"] == 1
    # Tokens 1 and 2 delivered, 3 failed at WhatsApp; the three rows without a token count once each.
    assert shared["delivered_messages"] == 5
    assert shared["unpriced_markets"] == ["none"] and shared["by_market"]["1"]["messages"] == 2


@given(
    st.lists(
        st.tuples(st.integers(-5, 40), st.one_of(st.just(float("nan")), st.floats(0, 1e4, allow_nan=False))),
        max_size=300,
    )
)
def test_grouped_percentiles_take_the_same_values_on_the_linear_path_as_on_the_sorting_one(
    rows: list[tuple[int, float]],
) -> None:
    keys = np.asarray([key for key, _ in rows], dtype="int64")
    values = np.asarray([value for _, value in rows], dtype="float64")
    linear = stats.grouped_percentiles(keys, values, (50.0, 95.0, 99.0, 100.0))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stats, "SMALL_KEY_SPAN", 0)  # every key span takes the sorting path
        sorting = stats.grouped_percentiles(keys, values, (50.0, 95.0, 99.0, 100.0))
    assert len(linear) == len(sorting)
    for got, expected in zip(linear, sorting, strict=True):
        assert got.tolist() == expected.tolist()
