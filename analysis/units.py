"""How figures are written for people: one function, so the terminal, the reasons and the scorecard agree."""

from __future__ import annotations


def format_value(value: float | None, unit: str) -> str:
    """Plain-words rendering: 8400 ms → '8.4 s', 0.0123 → '1.23%', 95 s → '95 s', 600 s → '10 min'."""
    if value is None:
        return "n/a"
    if value == float("inf"):
        return "never"
    if unit == "ms":
        return f"{value / 1000:.3g} s" if abs(value) >= 1000 else f"{value:.3g} ms"
    if unit == "s":
        return f"{value / 60:.3g} min" if abs(value) >= 120 else f"{value:.3g} s"
    if unit == "ratio":
        return f"{value * 100:.3g}%"
    if unit == "count":
        return f"{value:.0f}"
    if unit == "x":
        return f"{value:.3g}×"
    if unit == "rps":
        return f"{value:.3g}/s"
    if unit == "ms/h":
        return f"{value:+.3g} ms/hour"
    return f"{value:.3g}"
