from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ground.correlation import find_token, find_token_in, make_token


@given(worker=st.integers(0, 1023), sequence=st.integers(0, 10**12), text=st.text(max_size=50))
def test_token_is_found_wherever_it_is_embedded(worker: int, sequence: int, text: str) -> None:
    token = make_token("abc123", worker, sequence)
    assert find_token(f"{text} {token} {text}") == token


def test_tokens_of_different_workers_never_collide() -> None:
    tokens = {make_token("abc123", w, s) for w in range(8) for s in range(500)}
    assert len(tokens) == 8 * 500


def test_no_token_in_plain_text() -> None:
    assert find_token("discount code?") is None
    assert find_token_in([None, "", "hi"]) is None


@pytest.mark.parametrize("bad", ["ABC123", "abc12", "abc-12"])
def test_bad_run_tag_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="run tag"):
        make_token(bad, 0, 0)
