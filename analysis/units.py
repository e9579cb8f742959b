"""How figures are written for people: one function, so the terminal, the reasons and the scorecard agree.

Three significant digits by default, but never at the price of a wrong impression:

- a share below 100% never prints as "100%" (99.95% → "99.95%"), and one above 0 never as "0%";
- given ``distinct_from`` (the target the value is compared with), digits are added until the two read
  differently whenever they differ (99.896% against a 99.9% target → "99.896%", not "99.9%");
- no exponent notation for ordinary magnitudes (999.7 ms → "1 s", 1234/s → "1,234/s").
"""

from __future__ import annotations

import math

MAX_DIGITS = 9


def _sig(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits, trailing zeros dropped, thousands separated, no exponent."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude < -4:
        return f"{value:.{digits}g}"
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _render(value: float, unit: str, digits: int) -> str:
    if unit == "ms":
        # Decide the unit after rounding: 999.7 ms rounds to 1,000 ms, which reads better as 1 s.
        if abs(value) >= 1000 or _sig(abs(value), digits).replace(",", "") == "1000":
            return f"{_sig(value / 1000, digits)} s"
        return f"{_sig(value, digits)} ms"
    if unit == "s":
        return f"{_sig(value / 60, digits)} min" if abs(value) >= 120 else f"{_sig(value, digits)} s"
    if unit == "ratio":
        return f"{_sig(value * 100, digits)}%"
    if unit == "count":
        return f"{value:.0f}" if digits <= 3 or value == round(value) else _sig(value, digits)
    if unit == "x":
        return f"{_sig(value, digits)}×"
    if unit == "%":
        return f"{_sig(value, digits)}%"
    if unit == "rps":
        return f"{_sig(value, digits)}/s"
    if unit == "ms/h":
        sign = "+" if value > 0 else ""
        return f"{sign}{_sig(value, digits)} ms/hour"
    return _sig(value, digits)


def _misleading(value: float, unit: str, text: str) -> bool:
    """A share that is not 0 or 100% but reads as such."""
    if unit != "ratio":
        return False
    return (text == "100%" and value != 1.0) or (text in ("0%", "-0%") and value != 0.0)


def format_value(value: float | None, unit: str, *, distinct_from: float | None = None) -> str:
    """Plain-words rendering: 8400 ms → '8.4 s', 0.0123 → '1.23%', 95 s → '95 s', 600 s → '10 min'.

    ``distinct_from``: a value this one is shown beside (a target); when they differ, the two renderings differ.
    """
    if value is None:
        return "n/a"
    if value == float("inf"):
        return "never"
    digits = 3
    text = _render(value, unit, digits)
    while digits < MAX_DIGITS:
        clash = distinct_from is not None and value != distinct_from
        clash = clash and text == _render(float(distinct_from or 0.0), unit, digits)
        if not (clash or _misleading(value, unit, text)):
            break
        digits += 1
        text = _render(value, unit, digits)
    return text
