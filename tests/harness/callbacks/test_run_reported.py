"""End to end: `scrmbench run` against the Twilio facade with its status callbacks, scored with
``source: reported`` criteria, gives the reported figures and, since the facade is in front of the mock, their
accuracy; the dishonest reference (vendors/twilio-facade-dishonest.yaml) is caught by its documented truth.

Each run is a real one (mock, facade, receiver, Locust, export); the mock's ladder is made quick so the statuses
arrive within the drain.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from harness.run.runner import execute
from tests.fixtures.runs import quiet_run_request

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
QUICK_LADDER = {
    "webhooks": {
        "ladder": {
            "sent": {"distribution": "fixed", "ms": 100},
            "delivered": {"distribution": "fixed", "ms": 200},
            "read": {"distribution": "fixed", "ms": 300},
            "failed_rate": 0.02,
        }
    }
}


def _run(tmp_path: Path, vendor: str, recipients: int) -> tuple[Path, dict[str, Any]]:
    request = quiet_run_request(
        tmp_path,
        "broadcast",
        vendor=vendor,
        overrides={"recipients": recipients, "rate": 40, "drain_s": 3},
        seed=41,
        sla=str(ROOT / "docs" / "examples" / "sla-reported.yaml"),
        mock_settings=QUICK_LADDER,
    )
    result = execute(request)
    assert result.summary is not None
    return result.run_dir, result.summary


def test_a_twilio_run_with_callbacks_gives_reported_and_accuracy_figures_and_scores_reported_criteria(
    tmp_path: Path,
) -> None:
    run_dir, summary = _run(tmp_path, "twilio-facade-callbacks.yaml", 80)

    reported, accuracy = summary["reported"], summary["report_accuracy"]
    acked = summary["accounting"]["acked"]
    assert reported["acked"] == acked >= 80
    assert reported["reported_delivered"] + reported["reported_failed"] + reported["unconfirmed"]["count"] == acked
    assert reported["status_latency_ms"]["count"] == reported["reported_delivered"] > 0
    assert reported["receiver"]["refused"] == reported["receiver"]["malformed"] == reported["receiver"]["shed"] == 0
    # The honest facade's reports match the truth message by message.
    assert accuracy["ladder_known"]
    assert accuracy["reported_delivered"] == accuracy["true_delivered"]
    assert accuracy["reported_read"] == accuracy["true_read"] > 0
    assert accuracy["reported_failed"] == accuracy["true_failed"]
    assert accuracy["reports_for_unsent"] == accuracy["reported_delivered_but_lost"] == 0
    assert summary["accounting"]["reported_delivered_but_lost"] == 0
    # The SLA's reported criteria were evaluated on those figures, and say they are the vendor's.
    criteria = {c["id"]: c for c in summary["sla"]["criteria"]}
    assert criteria["reported-delivery"]["reported"] and not criteria["api-errors"]["reported"]
    assert criteria["reported-delivery"]["measured"] == pytest.approx(reported["delivery_rate"]["share"])
    assert criteria["reported-status-latency"]["status"] in ("pass", "warn", "fail", "inconclusive")
    # Recorded where the issue says, the shards folded; the manifest names the receiver, never its secret path.
    assert pq.read_table(run_dir / "vendor_events.parquet").num_rows == reported["events"]
    assert not (run_dir / "vendor_events").exists()
    manifest = yaml.safe_load((run_dir / "manifest.json").read_text())
    assert manifest["callbacks"]["url"].endswith("/cb/<secret>")
    assert set(re.findall(r"/cb/([^\s\"/]+)", (run_dir / "manifest.json").read_text())) == {"<secret>"}
    # The per-message callback URL carries the secret path: only the run's private profile copy holds it, never the
    # results folder's vendor-profile.yaml (the profile's public form).
    public = yaml.safe_load((run_dir / "vendor-profile.yaml").read_text())
    assert "status_callback" not in public["options"] and "/cb/" not in (run_dir / "vendor-profile.yaml").read_text()


def test_the_dishonest_reference_is_caught_by_its_documented_truth(tmp_path: Path) -> None:
    # vendors/twilio-facade-dishonest.yaml: drops 10% and reports them delivered; reports read for 50% of the
    # delivered messages whatever the customer did.
    _, summary = _run(tmp_path, "twilio-facade-dishonest.yaml", 200)

    accounting, accuracy = summary["accounting"], summary["report_accuracy"]
    assert accounting["lost"] > 0  # P(no drop in 200 at 10%) ~ 1e-9
    assert accounting["reported_delivered_but_lost"] == accounting["lost"] == accuracy["never_reached_whatsapp"]
    assert accuracy["reports_for_unsent"] == accounting["lost"]
    assert abs(accounting["lost"] / accounting["acked"] - 0.1) < 0.08
    # The inflated read rate: of the truly delivered and unread messages, about half were reported read.
    false_read = accuracy["false_read_share"]
    assert false_read["of"] > 40 and abs(false_read["share"] - 0.5) < 0.2
    assert accuracy["read_inflation"] > 1.3
    # The vendor's own delivery figure looks better than the truth.
    assert summary["reported"]["delivery_rate"]["share"] > accuracy["true_delivered"] / accuracy["acked"]


def test_cloud_api_callbacks_from_the_mock_itself_are_recorded_signed_and_truthful(tmp_path: Path) -> None:
    # vendors/cloud-api-mock-callbacks.yaml: the run subscribes its receiver at the mock, which signs each status
    # webhook with X-Hub-Signature-256; the reports join the sends by wamid and match the ladder exactly.
    _, summary = _run(tmp_path, "cloud-api-mock-callbacks.yaml", 60)

    reported, accuracy = summary["reported"], summary["report_accuracy"]
    assert reported["receiver"]["dialect"] == "cloud-api" and reported["receiver"]["refused"] == 0
    assert reported["acked"] == summary["accounting"]["acked"] >= 60
    assert reported["reported_delivered"] == accuracy["true_delivered"] > 0
    assert accuracy["reported_read"] == accuracy["true_read"]
    assert accuracy["reported_delivered_not_delivered"] == accuracy["delivered_not_reported"] == 0
    assert "callback receiver" not in " ".join(summary["run"]["notes"])
