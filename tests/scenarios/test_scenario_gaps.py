"""Scenario parameters that matter: options a scenario would ignore are refused, webhook-storm's status ratio
is what it says (checked from the ledger), and peak has a real simultaneous burst."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ground.errors import EXIT_BAD_INPUT, ScenarioError
from harness.cli import main
from harness.faults.timeline import read_timeline
from harness.recorder import read_requests
from harness.run.runner import execute
from scenarios import peak
from scenarios.registry import get
from tests.fixtures.runs import quiet_run_request
from tests.fixtures.vendors import SHIPPED_PROFILES

IGNORED = [
    ("broadcast", "duration_s", "--duration", "recipients"),
    ("media-burst", "duration_s", "--duration", "uploads"),
    ("data-volume", "duration_s", "--duration", "phase_s"),
    ("capacity", "duration_s", "--duration", "step_s"),
    ("capacity", "rate", "--rate", "start_rate"),
]


@pytest.mark.parametrize(("scenario", "field", "option", "instead"), IGNORED)
def test_an_option_the_scenario_would_ignore_is_refused_naming_what_to_use(
    scenario: str, field: str, option: str, instead: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        get(scenario).plan({field: 30}, quick=True)
    error = caught.value
    assert error.exit_code == EXIT_BAD_INPUT
    assert option in str(error) and instead in str(error) and scenario in str(error)
    get(scenario).plan({field: None}, quick=True)  # not given: fine


def test_scenarios_that_use_duration_and_rate_still_take_them() -> None:
    assert get("peak").plan({"duration_s": 30, "rate": 3}).duration_s == 30
    assert get("webhook-storm").plan({"duration_s": 12}).duration_s == 12


def test_the_cli_refuses_duration_for_capacity_with_the_bad_input_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["run", "--vendor", str(SHIPPED_PROFILES / "reference-steady.yaml"), "--scenario", "capacity",
         "--duration", "30", "--out", str(tmp_path), "--no-progress"]
    )  # fmt: skip
    assert code == EXIT_BAD_INPUT
    err = " ".join(capsys.readouterr().err.split())
    assert "--duration" in err and "steps" in err and "step_s" in err
    assert not any(tmp_path.iterdir())  # refused before any results folder


@pytest.mark.parametrize(("statuses", "read_share"), [(3, 1.0), (2, 0.0)])
def test_webhook_storm_sets_the_mock_ladder_to_its_status_count(statuses: int, read_share: float) -> None:
    plan = get("webhook-storm").plan({"statuses": statuses}, quick=True)
    ladder = plan.mock_settings["webhooks"]["ladder"]
    assert ladder["read_share"] == read_share and ladder["failed_rate"] == 0.0
    assert ladder["read_receipts_off_share"] == 0.0
    assert len(plan.options["statuses"]) == statuses
    # The run's own mock settings are merged over the scenario's, mapping by mapping.
    merged = plan.mock_settings_with({"webhooks": {"seed": 4}, "ledger": {"memory_rows": 5}})
    assert merged["webhooks"]["ladder"] == ladder and merged["webhooks"]["seed"] == 4
    assert merged["ledger"] == {"memory_rows": 5}


def test_peak_plans_a_simultaneous_burst_scaled_to_the_machine() -> None:
    params = get("peak").params()
    assert params.burst_customers == peak.default_burst() <= peak.RESEARCH_BURST  # type: ignore[attr-defined]
    plan = get("peak").plan({"duration_s": 100})
    (step,) = plan.faults
    assert (step.fault, step.at_s, dict(step.params)) == ("customer-burst", 30.0, {"count": peak.default_burst()})
    assert get("peak").plan({"burst_customers": 0}).faults == ()
    assert get("peak").plan({"duration_s": 20, "burst_at_s": 4}).faults[0].at_s == 4
    with pytest.raises(ScenarioError, match="burst_at_s"):
        get("peak").plan({"duration_s": 20, "burst_at_s": 20})


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_webhook_storm_sends_three_status_webhooks_per_outbound_message(tmp_path: Path) -> None:
    ladder_drain = {"duration_s": 5, "rate": 8, "drain_s": 4}  # drain > the ladder's longest path (3 s)
    request = quiet_run_request(tmp_path, "webhook-storm", overrides=ladder_drain, seed=3)
    run_dir = execute(request).run_dir
    assert "read_share: 1.0" in (run_dir / "mock-config.yaml").read_text()  # the scenario's ladder reached the mock
    ledger = pq.read_table(run_dir / "ledger.parquet").to_pandas()
    outbound = set(ledger.loc[ledger["direction"] == "outbound", "wamid"].dropna())
    attempts = pq.read_table(run_dir / "webhooks.parquet").to_pandas()
    firsts = attempts[(attempts["kind"] == "status") & (attempts["attempt"] == 0)]  # first tries (0-based)
    per_message: dict[str, int] = {}
    for wamids in firsts["wamids"]:
        for wamid in str(wamids).split(","):
            per_message[wamid] = per_message.get(wamid, 0) + 1
    assert len(outbound) >= 20
    ratio = sum(per_message.get(w, 0) for w in outbound) / len(outbound)
    assert ratio == 3.0, {w: per_message.get(w, 0) for w in outbound if per_message.get(w, 0) != 3}


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_peak_burst_delivers_n_customers_at_once_on_the_load_clock(tmp_path: Path) -> None:
    burst, burst_at, duration_s = 25, 2.0, 5
    request = quiet_run_request(
        tmp_path,
        "peak",
        overrides={
            "duration_s": duration_s,
            "rate": 4,
            "drain_s": 3,
            "burst_customers": burst,
            "burst_at_s": burst_at,
        },
        seed=3,
    )
    run_dir = execute(request).run_dir
    (inject,) = [e for e in read_timeline(run_dir / "faults.jsonl") if e.action == "inject"]
    assert inject.fault == "customer-burst" and inject.ok and inject.params["count"] == burst
    first_slot = float(read_requests(run_dir).to_pandas()["scheduled_at"].min())
    # On the load's clock (first slot: 1/8 s after its start): not before burst_at after it (the harness's own
    # clock starts earlier, so a burst timed on it would come early), and inside the load. How late within it
    # depends on the machine and is not asserted.
    offset = inject.at - first_slot
    assert burst_at - 0.5 <= offset < duration_s, offset
    ledger = pq.read_table(run_dir / "ledger.parquet").to_pandas()
    inbound = ledger[ledger["direction"] == "inbound"]
    customer_slots = int((read_requests(run_dir).to_pandas()["operation"] == "customer_message").sum())
    assert len(inbound) == customer_slots + burst
    # The burst's messages all reached the ledger within a moment of the inject: together, not spread out.
    arrived = inbound["arrived_at"].to_numpy(dtype="float64")
    together = ((arrived >= inject.at) & (arrived <= (inject.ended_at or inject.at) + 1.0)).sum()
    assert together >= burst
    replies = ledger[(ledger["direction"] == "outbound") & ledger["reply_to_wamid"].notna()]
    assert len(replies) >= 0.9 * len(inbound)  # the vendor answered them: reply latency covers the burst
