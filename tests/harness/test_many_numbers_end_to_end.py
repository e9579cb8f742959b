"""Many numbers end to end: the 50-number reference profile (vendors/reference-many-numbers.yaml), a short
webhook-storm (sends and customer messages), the mock and the reference vendor started by the run.

Every number carries sends (round-robin: the spread is exact; the default customer spread: each customer hears
from one number, and writes to it), each request record names its number, the vendor sends from it (the mock's
ledger shows all 50 numbers, each message from the number its request named), customers write to all of them, and
summary.json's ``numbers`` section has a row per number, uniform for the steady vendor.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis.load import load_run
from harness.run.runner import execute
from tests.fixtures.runs import quiet_run_request
from tests.fixtures.vendors import SHIPPED_PROFILES


@pytest.mark.slow
@pytest.mark.parametrize("spread", ["round_robin", "customer"])
def test_a_50_number_profile_loads_every_number_and_reports_figures_per_number(tmp_path: Path, spread: str) -> None:
    profile = yaml.safe_load((SHIPPED_PROFILES / "reference-many-numbers.yaml").read_text())
    profile["number_spread"] = spread
    (tmp_path / "profile.yaml").write_text(yaml.safe_dump(profile))
    request = quiet_run_request(
        tmp_path,
        "webhook-storm",
        vendor=tmp_path / "profile.yaml",
        overrides={"duration_s": 12, "rate": 55, "inbound_share": 0.2, "drain_s": 4, "pool_size": 30},
        seed=4,
    )
    result = execute(request)
    assert result.manifest.complete and result.summary is not None
    run = load_run(result.run_dir)
    requests = run.requests
    sends = requests[requests["operation"].astype(str) == "send_text"]
    inbound = requests[requests["operation"].astype(str) == "customer_message"]
    per_number = sends["phone_number_id"].astype(str).value_counts()
    if spread == "round_robin":
        assert len(per_number) == 50, per_number
        assert per_number.max() - per_number.min() <= 1  # one worker walks the cycle: no number skipped or favoured
    else:  # each customer on a number of their own: about 10 sends a number, dealt by the customers' hash
        assert len(per_number) >= 45, per_number
    assert inbound["phone_number_id"].notna().all() and inbound["phone_number_id"].nunique() > 10

    # The vendor sent each message from the number its request named (the ledger is WhatsApp's view).
    outbound = run.ledger[run.ledger["direction"].astype(str) == "outbound"]
    asked = sends.set_index(sends["correlation_id"].astype(str))["phone_number_id"].astype(str)
    arrived = outbound[outbound["correlation_id"].astype(str).isin(asked.index)]
    pairs = pd.DataFrame(
        {
            "asked": asked.reindex(arrived["correlation_id"].astype(str)).to_numpy(),
            "seen": arrived["phone_number_id"].astype(str).to_numpy(),
        }
    )
    assert len(pairs) > 400 and (pairs["asked"] == pairs["seen"]).all()
    assert outbound["phone_number_id"].astype(str).nunique() >= (50 if spread == "round_robin" else 45)
    if spread == "customer":  # WhatsApp's view: a customer hears from one number and writes to that one
        ledger = run.ledger.astype({"recipient": str, "phone_number_id": str})
        assert (ledger.groupby("recipient")["phone_number_id"].nunique() == 1).all()

    numbers = result.summary["numbers"]
    assert numbers["count"] == 50 and len(numbers["by_number"]) == 50
    assert sum(row["sends"] for row in numbers["by_number"]) == len(sends)
    assert all(row["delivered_share"]["value"] == 1.0 for row in numbers["by_number"] if row["sends"])
    # About 10 sends a number: enough to compare shares and medians (not p99s), and the steady vendor is even.
    assert numbers["compared"]["latency_p99_ms"] == 0 and numbers["uniform"] is True and numbers["differs"] == []
    if spread == "round_robin":
        assert numbers["compared"]["delivered_share"] == 50 and numbers["load"]["imbalance"] < 1.2
