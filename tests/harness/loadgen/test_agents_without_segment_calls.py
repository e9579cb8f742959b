"""A dialect with agents but without a segment call: the agents still run and are measured; the segment is "not
measured" (never zero) and the manifest says which call the dialect lacks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.run.runner import execute
from tests.fixtures.runs import quiet_run_request
from tests.fixtures.vendors import SHIPPED_PROFILES


@pytest.mark.slow
def test_agents_run_and_the_segment_is_not_measured_when_the_dialect_cannot_tag(tmp_path: Path) -> None:
    data = yaml.safe_load((SHIPPED_PROFILES / "reference-steady.yaml").read_text())
    data["name"] = "reference-no-tags"
    data["capabilities"]["operations"].remove("tag_contact")
    profile = tmp_path / "reference-no-tags.yaml"
    profile.write_text(yaml.safe_dump(data))
    result = execute(quiet_run_request(tmp_path / "results", "contact-center", vendor=profile, quick=True, seed=3))
    assert result.manifest.complete and result.summary is not None
    agents = result.summary["agents"]
    assert agents is not None and agents["assigned"] > 0 and agents["first_human_response_ms"]["count"] > 0
    assert agents["segment"] is None  # no broadcast was started: not a segment of zero
    unmeasured = result.summary["unmeasured"]
    assert "lacks tag_contact" in unmeasured["segment"] and "agents" not in unmeasured
    criteria = {(c["metric"], c.get("aggregation", "")): c for c in result.summary["sla"]["criteria"]}
    assert criteria[("segment_lost", "count")]["status"] == "not_applicable"
