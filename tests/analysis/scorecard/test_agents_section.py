"""The scorecard's "agents and routing" evidence: drawn from the summary's agents section, "not measured" without."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from analysis.scorecard.charts import AGENTS_SECTION, _agents_charts, _Collector
from analysis.scorecard.inputs import RunBundle


def bundle(vendor: str, agents: dict[str, Any] | None) -> RunBundle:
    summary = {"run": {"vendor": vendor, "scenario": "contact-center"}, "agents": agents}
    return RunBundle(cast(Any, SimpleNamespace()), summary)


AGENTS = {
    "assignment_cdf": {"ms": [1.0, 2.0, 6000.0], "share": [0.0, 0.5, 1.0]},
    "first_human_response_ms": {"count": 3, "p50": 4200.0, "p95": 9000.0},
    "queue": {"t": [0.0, 1.0, 2.0], "length": [0, 3, 1]},
    "occupancy": {"t": [0.0, 1.0, 2.0], "agents": {"ann": [0.0, 0.5, 0.33], "bob": [0.0, 0.17, 0.0]}},
    "balance_cv": 0.4,
}


def test_a_measured_run_gets_the_assignment_cdf_the_queue_and_occupancy_per_agent():
    out = _Collector()
    _agents_charts(out, [bundle("good", AGENTS)])
    titles = [chart.title for chart in out.charts]
    assert titles == ["assignment latency", "queue length", "occupancy per agent: good"]
    assert {chart.section for chart in out.charts} == {AGENTS_SECTION}
    assert "p50 4.2 s, p95 9.0 s" in out.charts[1].caption and "0.40" in out.charts[2].caption
    assert '"ann"' in out.charts[2].spec and '"bob"' in out.charts[2].spec


def test_a_dialect_without_agents_is_said_not_measured_never_drawn_as_zero():
    out = _Collector()
    _agents_charts(out, [bundle("good", AGENTS), bundle("saas", None)])
    assert not any("saas" in chart.title or '"saas"' in chart.spec for chart in out.charts)
    assert any("saas: not measured" in note for note in out.omitted)
