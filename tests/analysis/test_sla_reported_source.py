"""A criterion may use a figure the vendor reports only when the SLA file says ``source: reported`` (checked where
the file is read), and a measured figure may not be dressed as reported. The shipped example SLA is valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.sla import load_sla, sla_from_criteria
from analysis.sla_metrics import METRICS
from ground.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "sla-reported.yaml"


def test_a_reported_figure_without_source_reported_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError) as caught:
        sla_from_criteria("x", [{"metric": "reported_delivery_rate", "target": 0.95}], source="mine.yaml")
    assert "source: reported" in str(caught.value) and "mine.yaml" in str(caught.value)


def test_source_reported_on_a_measured_figure_is_refused() -> None:
    with pytest.raises(ConfigError, match="measured by the harness"):
        sla_from_criteria("x", [{"metric": "delivery_rate", "target": 0.95, "source": "reported"}], source="mine.yaml")


def test_reported_criteria_with_their_source_load_and_say_they_are_reported() -> None:
    spec = sla_from_criteria(
        "x",
        [
            {"metric": "reported_read_rate", "target": 0.5, "source": "reported"},
            {"metric": "reported_status_latency_ms", "aggregation": "p95", "target": 3000, "source": "reported: #4"},
        ],
        source="mine.yaml",
    )
    assert [c.metric for c in spec.criteria] == ["reported_read_rate", "reported_status_latency_ms"]
    assert all(METRICS[c.metric].reported for c in spec.criteria)


def test_the_shipped_example_sla_for_hosted_candidates_loads() -> None:
    spec = load_sla(EXAMPLE)
    reported = [c.metric for c in spec.criteria if METRICS[c.metric].reported]
    assert len(reported) == 4 and {c.metric for c in spec.criteria} - set(reported) == {"error_rate", "latency_ms"}
