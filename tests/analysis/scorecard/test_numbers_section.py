"""The scorecard's "business numbers" evidence: how evenly the sends went over the numbers, and the worst numbers
only where numbers differ; uniform numbers are said so in words; bounded for 200 numbers; one number: nothing."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, cast

from analysis.scorecard.charts import NUMBERS_SECTION, _Collector, _numbers_charts
from analysis.scorecard.inputs import RunBundle
from tests.analysis.test_numbers import delivered, section, sends


def bundle(vendor: str, numbers: dict[str, Any] | None) -> RunBundle:
    summary = {"run": {"vendor": vendor, "scenario": "peak"}, "numbers": numbers}
    return RunBundle(cast(Any, SimpleNamespace()), summary)


def numbers(count: int, *, throttled_every: int = 0, each: int = 20) -> dict[str, Any]:
    """``count`` numbers of ``each`` sends; every ``throttled_every``-th has three quarters of them throttled."""
    rows = []
    for i in range(count):
        throttled = each * 3 // 4 if throttled_every and i % throttled_every == 0 else 0
        rows.extend(sends(str(500 + i), each, start=each * i, throttled=throttled))
    result = section(rows, delivered(rows))
    assert result is not None
    return result


def test_uniform_numbers_get_the_spread_and_the_word_uniform_but_no_worst_list() -> None:
    out = _Collector()
    _numbers_charts(out, [bundle("steady", numbers(5))])
    assert [chart.title for chart in out.charts] == ["sends per number"]
    assert out.charts[0].section == NUMBERS_SECTION
    assert "steady: 5 numbers, 20–20 sends each; uniform" in out.charts[0].caption


def test_numbers_that_differ_get_the_worst_ones_bounded_for_200_numbers() -> None:
    out = _Collector()
    _numbers_charts(out, [bundle("throttled", numbers(200, throttled_every=9, each=40))])
    titles = [chart.title for chart in out.charts]
    assert titles == ["sends per number", "worst numbers: throttled"]
    caption = out.charts[0].caption
    assert "they differ on throttled share" in caption and "min / median / max" in caption
    worst = json.loads(out.charts[1].spec)["data"]
    assert all(len(trace["x"]) == 10 for trace in worst)  # the worst 10 of 200, not 200 bars
    assert "130429" in out.charts[1].caption


def test_one_number_or_no_section_draws_nothing() -> None:
    out = _Collector()
    _numbers_charts(out, [bundle("one", numbers(1)), bundle("old", None)])
    assert out.charts == [] and out.omitted == []
