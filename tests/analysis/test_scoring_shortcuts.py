"""The shortcuts that make a big run score faster give the answers of the computations they replace, on generated
runs: the message table's numbering of tokens in increasing order, the cost section's booleans and failed tokens by
number, and the delivery latencies sorted once for the accounting and the SLA."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import accounting as acc
from analysis import cost as cost_module
from analysis.columns import text_is
from analysis.rates import RateCard
from analysis.sla_metrics import Evidence, delivery_latency
from tests.analysis import frames as f

CARD = RateCard.model_validate(
    {
        "name": "test",
        "source": "tests",
        "as_of": "2026-10-01",
        "rates": [{"prefix": "49", "marketing": 0.10, "utility": 0.02}, {"prefix": "1", "marketing": 0.025}],
    }
)


@st.composite
def increasing_first_appearances(draw: st.DrawFn) -> tuple[int, np.ndarray]:
    """Codes whose values first appear in increasing order (with gaps and repeats), as a run's sends do."""
    steps = draw(st.lists(st.tuples(st.booleans(), st.integers(1, 4), st.integers(0, 1000)), min_size=1, max_size=200))
    codes: list[int] = []
    top = -1
    for new, gap, pick in steps:
        if new or not codes:
            top += gap
            codes.append(top)
        else:
            codes.append(codes[pick % len(codes)])
    return top + draw(st.integers(1, 5)), np.asarray(codes, dtype="int64")


@given(increasing_first_appearances())
def test_codes_numbered_by_value_are_numbered_as_pandas_factorize_does(case: tuple[int, np.ndarray]) -> None:
    size, codes = case
    assert acc._numbered_by_value(codes, size) is not None  # the shortcut is the path taken
    numbered, stands_for = acc.first_appearance(codes, size)
    expected_codes, expected_uniques = pd.factorize(codes)
    assert numbered.tolist() == expected_codes.tolist()
    assert stands_for.tolist() == expected_uniques.tolist()


@given(st.lists(st.integers(0, 20), min_size=1, max_size=100))
def test_the_shortcut_declines_codes_whose_first_appearances_are_out_of_order(values: list[int]) -> None:
    codes = np.asarray(values, dtype="int64")
    firsts = pd.unique(codes)
    shortcut = acc._numbered_by_value(codes, 21)
    assert (shortcut is not None) == bool((np.diff(firsts) > 0).all())


BOOLEANS = st.one_of(st.booleans(), st.none(), st.just(float("nan")))


@given(st.lists(BOOLEANS, max_size=50))
def test_boolean_flags_read_as_fillna_false_does(values: list[Any]) -> None:
    as_objects = pd.Series(values, dtype=object)
    assert cost_module.flags(as_objects).tolist() == as_objects.fillna(False).to_numpy(dtype=bool).tolist()
    assert cost_module._all_missing(as_objects) == bool(as_objects.isna().all())
    nullable = pd.Series([None if v is None or v != v else v for v in values], dtype="boolean")
    assert cost_module.flags(nullable).tolist() == as_objects.fillna(False).to_numpy(dtype=bool).tolist()
    assert cost_module._all_missing(nullable) == bool(as_objects.isna().all())


OUTCOMES = st.sampled_from(["ok", "failed", "indeterminate", "dropped"])


@st.composite
def runs(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Requests (sends, some retried, some answered badly) and a ledger with duplicates, late and unexpected copies."""
    tokens = [f"sb-{i:06d}" for i in range(draw(st.integers(1, 12)))]
    sends = draw(st.lists(st.tuples(st.sampled_from(tokens), OUTCOMES, st.floats(0, 50)), min_size=1, max_size=30))
    rows = [f.request(t, correlation_id=token, outcome=outcome, ok=outcome == "ok") for token, outcome, t in sends]
    copies = draw(
        st.lists(
            st.tuples(
                st.sampled_from([*tokens, "sb-unexpected", ""]),
                st.floats(0, 60),
                st.sampled_from(["marketing", "utility", "service"]),
                st.one_of(st.booleans(), st.none()),
                st.booleans(),
            ),
            max_size=30,
        )
    )
    ledger = f.ledger(
        [
            f.arrival(
                token,
                t,
                wa_id="+4915100000001" if i % 2 else "14155550100",
                category=category,
                billable=billable,
                async_error_code=131026 if failed else None,
            )
            for i, (token, t, category, billable, failed) in enumerate(copies)
        ]
    )
    return f.requests(rows), ledger


@settings(max_examples=60, deadline=None)
@given(runs())
def test_failed_tokens_by_number_are_the_failed_tokens_by_text(run: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    requests, ledger = run
    tokens = acc.token_codes(requests, ledger)
    messages = acc.message_table(requests, ledger, tokens)
    by_number = cost_module._failed_codes(messages, requests, tokens)
    by_text = cost_module._codes_of(tokens.names, cost_module.failed_tokens(messages, requests))
    assert by_number is not None
    assert by_number.tolist() == by_text.tolist()
    assert cost_module.cost(ledger, messages, CARD, requests, tokens) == cost_module.cost(
        ledger, messages, CARD, requests
    )


def test_failed_tokens_of_a_table_numbered_otherwise_take_the_text_path() -> None:
    requests = f.requests([f.request(0, correlation_id="sb-a", ok=False), f.request(1, correlation_id="sb-b")])
    ledger = f.ledger([f.arrival("sb-b", 2)])
    tokens = acc.token_codes(requests, ledger)
    messages = acc.message_table(requests, ledger, tokens)
    messages["token"] = messages["token"][::-1].to_numpy()  # numbers that name other tokens
    assert cost_module._failed_codes(messages, requests, tokens) is None


@settings(max_examples=60, deadline=None)
@given(runs())
def test_delivery_latencies_sorted_once_give_the_accounting_and_the_sla_their_own_figures(
    run: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    requests, ledger = run
    messages = acc.message_table(requests, ledger)
    shared = acc.delivery_ranks(messages)
    figures = acc.accounting(messages)
    assert acc.accounting(messages, delivery=shared) == figures
    other = acc.delivery_ranks(messages.iloc[::-1].reset_index(drop=True))  # not this table's sort: ignored
    assert acc.accounting(messages, delivery=other) == figures
    summary = {"accounting": figures}
    alone = Evidence(summary, requests, messages, pd.DataFrame(), pd.DataFrame(), f.T0)
    for aggregation in ("p50", "p95", "max", "mean"):
        with_sort = Evidence(
            summary, requests, messages, pd.DataFrame(), pd.DataFrame(), f.T0, orders={"delivery_ms": shared}
        )
        assert _same(delivery_latency(with_sort, aggregation, None), delivery_latency(alone, aggregation, None))


def _same(a: Any, b: Any) -> bool:
    return bool(
        a.value == b.value
        and a.samples == b.samples
        and a.ci95 == b.ci95
        and a.detail == b.detail
        and (a.values is None) == (b.values is None)
        and (a.values is None or np.array_equal(a.values, b.values))
    )


@pytest.mark.parametrize("billable", [True, False, None])
def test_a_ledger_of_unknown_billing_is_not_measured_only_when_every_row_is_unknown(billable: bool | None) -> None:
    requests = f.requests([f.request(0, correlation_id="sb-a")])
    ledger = f.ledger([f.arrival("sb-a", 1, wa_id="+4915100000001", category="marketing", billable=billable)])
    section = cost_module.cost(ledger, acc.message_table(requests, ledger), CARD)
    assert section["measured"] is (billable is not None)


def test_scoring_asks_numpy_not_to_advise_huge_pages() -> None:
    from numpy._core import multiarray

    from analysis.load import use_retaining_allocator

    switch = getattr(multiarray, "_set_madvise_hugepage")  # noqa: B009 (private: not in numpy's stubs)
    before = switch(True)
    try:
        use_retaining_allocator()
        assert switch(True) is False  # the state it had: switched off
    finally:
        switch(before)


@settings(max_examples=40, deadline=None)
@given(runs(), st.sampled_from([None, "send_text", "send_template"]))
def test_request_latency_takes_the_rows_of_the_started_scoped_frame(
    run: tuple[pd.DataFrame, pd.DataFrame], scope: str | None
) -> None:
    from analysis import sla_metrics
    from analysis.metrics import event_time, latency_orders

    requests, ledger = run
    messages = acc.message_table(requests, ledger)
    orders = latency_orders(requests)
    evidence = Evidence(
        {"accounting": acc.accounting(messages)},
        requests,
        messages,
        pd.DataFrame(),
        pd.DataFrame(),
        f.T0,
        orders={"latency_ms": orders["latency"], "corrected_latency_ms": orders["corrected"]},
    )
    started = requests[~text_is(requests["outcome"], "dropped")]  # the frame it used to copy
    frame = started if scope is None else started[text_is(started["operation"], scope)]
    for column in ("latency_ms", "corrected_latency_ms"):
        values = frame[column].to_numpy(dtype="float64", na_value=np.nan)
        expected = sla_metrics._distribution(values, event_time(frame), "p95", f.T0)
        assert _same(sla_metrics.request_latency(column)(evidence, "p95", scope), expected)
    # The request shares take the same rows by a mask too.
    ok = frame["ok"].fillna(False).to_numpy(dtype=bool)
    assert sla_metrics.error_count(evidence, "count", scope).value == float(ok.size - ok.sum())
    for share, hit in ((sla_metrics.error_rate, ~ok), (sla_metrics.availability, ok)):
        measured = share(evidence, "ratio", scope)
        assert measured.samples == ok.size
        assert ok.size == 0 or np.array_equal(measured.values, hit.astype("float64"))
        assert ok.size == 0 or np.array_equal(measured.times, event_time(frame))
