"""Numbering the tokens part by part (analysis/tokens.py, for big runs) agrees with the one-pass numbering: the same
rows share a number exactly when they share a token, on generated tokens with duplicates, nulls, empty and
non-ASCII ones, and the accounting, per-number and cost figures built on either numbering are the same."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import accounting as acc
from analysis import tokens as tk
from analysis.cost import cost
from analysis.numbers import numbers_section
from analysis.rates import RateCard
from tests.analysis import frames as f

TOKENS = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(["sb-1", "sb-2", "sb-10", "sb-01", "x"]),  # repeated on both sides
    st.text(max_size=12),  # any text, non-ASCII included
)


def _rows(codes: np.ndarray, names: pd.Index) -> list[str | None]:
    return [None if code < 0 else str(names[code]) for code in codes]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(TOKENS, max_size=60),
    st.lists(TOKENS, max_size=60),
    st.integers(min_value=2, max_value=9),
    st.integers(min_value=1, max_value=7),
)
def test_numbering_in_parts_is_a_renumbering_of_the_one_pass_numbering(
    left: list[str | None], right: list[str | None], parts: int, chunk: int
) -> None:
    # Several chunks per side, as a column read from many shards or row groups is; sliced chunks too.
    def side(values: list[str | None]) -> pa.ChunkedArray:
        array = pa.array(["pad", *values], type=pa.large_string()).slice(1)
        return pa.chunked_array([array.slice(i, chunk) for i in range(0, len(values), chunk)], type=pa.large_string())

    (one_left, one_right), one_names = tk.number_tokens([side(left), side(right)], parts=1)
    (p_left, p_right), p_names = tk.number_tokens([side(left), side(right)], parts=parts)
    # Each row stands for the same token (a null for none) ...
    assert _rows(p_left, p_names) == left == _rows(one_left, one_names)
    assert _rows(p_right, p_names) == right == _rows(one_right, one_names)
    # ... the distinct tokens are listed once each, the same set ...
    assert len(set(p_names)) == len(p_names) == len(one_names) and set(p_names) == set(one_names)
    # ... so two rows share a number exactly when they share a token.
    one, split = np.concatenate([one_left, one_right]), np.concatenate([p_left, p_right])
    assert (one[:, None] == one[None, :]).tolist() == (split[:, None] == split[None, :]).tolist()


def test_tokens_spread_over_the_parts() -> None:
    tokens = pa.array([f"syn-{i:09d}" for i in range(20_000)], type=pa.large_string())
    counts = np.bincount(tk.part_of(tokens, 8), minlength=8)
    assert counts.min() > 0.8 * counts.mean()  # even enough that no part holds much more than its share


def test_a_run_over_the_part_size_is_numbered_in_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = tk._in_parts
    monkeypatch.setattr(tk, "_in_parts", lambda chunked, parts: calls.append(parts) or real(chunked, parts))
    side = pa.array([f"tok-{i}" for i in range(1000)], type=pa.large_string())
    monkeypatch.setattr(tk, "ONE_PASS_TEXT_BYTES", tk.text_bytes(side) // 2)
    monkeypatch.setattr(tk, "PART_TEXT_BYTES", tk.text_bytes(side) // 3)
    (codes,), names = tk.number_tokens([side])
    assert calls == [4] and sorted(names) == sorted(side.to_pylist()) and sorted(codes.tolist()) == list(range(1000))
    monkeypatch.setattr(tk, "ONE_PASS_TEXT_BYTES", tk.text_bytes(side))  # up to the threshold: one pass
    tk.number_tokens([side])
    assert calls == [4]


CARD = RateCard.model_validate(
    {"name": "test", "source": "tests", "as_of": "2026-10-01", "rates": [{"prefix": "49", "marketing": 0.1}]}
)


def _run() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    requests, arrivals = [], []
    for i in range(300):
        token = f"sb-{i:04d}" if i % 37 else ""  # an empty token now and then
        kind = rng.integers(0, 6)
        outcome = ["ok", "ok", "ok", "failed", "indeterminate", "ok"][kind]
        number = f"10{i % 4}"
        requests.append(f.request(i * 0.1, correlation_id=token, ok=outcome == "ok", outcome=outcome,
                                  phone_number_id=number))  # fmt: skip
        if kind == 5:  # retried: the same token sent twice
            requests.append(f.request(i * 0.1 + 0.05, correlation_id=token, phone_number_id=number))
        copies = 0 if kind == 2 else (2 if kind == 1 else 1)  # lost, duplicated, once
        arrivals += [
            f.arrival(token, i * 0.1 + 0.3 + c, wa_id="+4915100000001", category="marketing", billable=True)
            for c in range(copies)
        ]
    arrivals.append(f.arrival("never-sent", 40.0, wa_id="+4915100000001", category="marketing", billable=True))
    arrivals.append(f.arrival("-", 41.0, wa_id="+4915100000001", category="marketing", correlation_id=None))
    return f.requests(requests), f.ledger(arrivals)


@pytest.mark.parametrize("parts", [2, 5])
def test_the_figures_are_the_same_whatever_the_number_of_parts(parts: int) -> None:
    requests, ledger = _run()
    figures, tables = [], []
    for n in (1, parts):
        tokens = acc.token_codes(requests, ledger, parts=n)
        messages = acc.message_table(requests, ledger, tokens)
        figures.append(
            (
                acc.accounting(messages),
                numbers_section(requests, messages, ledger_available=True, tokens=tokens),
                cost(ledger, messages, CARD, requests, tokens),
            )
        )
        tables.append(messages.drop(columns="token"))  # the token numbers differ; what they stand for does not
    assert figures[0] == figures[1]
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert figures[0][0]["lost"] > 0 and figures[0][0]["duplicated"] > 0 and figures[0][0]["unexpected"] == 1
