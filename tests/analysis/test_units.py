"""format_value: three significant digits, but never a figure that reads equal to its target when it is not."""

from __future__ import annotations

import pytest

from analysis.units import format_value


@pytest.mark.parametrize(
    ("value", "target", "expected"),
    [
        (0.99896, 0.999, "99.896%"),  # 3 digits gave "99.9%" beside a target of 99.9%
        (0.9989, 0.999, "99.89%"),
        (0.995, 0.995, "99.5%"),  # equal to the target: no extra digits
        (0.0101, 0.01, "1.01%"),  # already distinct at 3 digits
        (2000.4, 2000.0, "2.0004 s"),
        (500.2, 500.0, "500.2 ms"),
    ],
)
def test_a_value_beside_its_target_reads_differently(value: float, target: float, expected: str) -> None:
    shown = format_value(value, "ratio" if value < 1 else "ms", distinct_from=target)
    assert shown == expected
    if value != target:
        assert shown != format_value(target, "ratio" if value < 1 else "ms")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.9995, "99.95%"), (0.99999, "99.999%"), (0.999996, "99.9996%"), (1.0, "100%"), (0.0, "0%"), (0.5, "50%")],
)
def test_a_share_never_rounds_up_to_100_percent_unless_it_is(value: float, expected: str) -> None:
    assert format_value(value, "ratio") == expected


def test_no_exponent_notation_at_unit_boundaries() -> None:
    assert format_value(999.7, "ms") == "1 s"  # '.3g' printed "1e+03 ms"
    assert format_value(1234.0, "rps") == "1,234/s"
    assert format_value(50.0, "ms/h") == "+50 ms/hour"
    assert format_value(-3.2, "ms/h") == "-3.2 ms/hour"
