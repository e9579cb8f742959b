"""One source for the mock's admin token: ``SCRMBENCH_MOCK_ADMIN_TOKEN`` (else the development default), read once
per run, handed to the mock the run starts and carried by every call of the run to it; registered for redaction."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import yaml

from ground.secrets import REDACTED, redact
from harness.adapters.registry import parse_profile
from harness.faults.timeline import FaultTimeline
from harness.health import http_mock_stats
from harness.loadgen.options import EngineOptions
from harness.run.steps import export_mock_records, run_setup_step
from harness.stack.launchers import LaunchContext
from harness.stack.mock import subscribe
from harness.stack.services import RunServices
from mocks.facades.twilio_callbacks import CallbackSettings
from mocks.whatsapp.config import ADMIN_TOKEN_ENV, DEV_ADMIN_TOKEN
from plan.load import SetupStep

VENDORS = Path(__file__).resolve().parents[3] / "vendors"
EXPORTED = "exported-admin-token-5f1c"


def services(tmp_path: Path, **kwargs: Any) -> RunServices:
    profile = parse_profile(yaml.safe_load((VENDORS / "cloud-api-mock.yaml").read_text()), source="cloud-api-mock")
    return RunServices(profile, tmp_path / "vendor-profile.yaml", **kwargs)


def test_a_setup_step_carries_the_exported_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_TOKEN_ENV, EXPORTED)
    sent: list[dict[str, str]] = []
    monkeypatch.setattr(httpx, "patch", lambda url, **kwargs: sent.append(kwargs["headers"]))
    run = services(tmp_path, mock_url="http://127.0.0.1:9")
    run_setup_step(SetupStep("mock-limits", {"tier": "250"}), run, FaultTimeline())
    assert sent == [{"Authorization": f"Bearer {EXPORTED}"}]
    assert run.fault_targets().upstream["mock"].admin_token == EXPORTED
    assert redact(f"Bearer {EXPORTED}") == f"Bearer {REDACTED}"  # read through read_secret: never printed


def test_without_the_variable_every_side_uses_the_development_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ADMIN_TOKEN_ENV, raising=False)
    assert services(tmp_path).admin_token == DEV_ADMIN_TOKEN
    assert CallbackSettings.from_env().admin_token == DEV_ADMIN_TOKEN
    monkeypatch.setenv(ADMIN_TOKEN_ENV, EXPORTED)
    assert CallbackSettings.from_env().admin_token == EXPORTED


def test_the_load_generator_reads_the_same_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_TOKEN_ENV, EXPORTED)
    parsed = SimpleNamespace(
        scenario="peak", vendor="", quick=True, seed=0, results_dir="", run_id="", run_tag="", phase=0, mock_url=""
    )
    assert EngineOptions.from_parsed(parsed).mock_admin_token == EXPORTED


def test_an_exported_token_works_end_to_end_against_the_mock_the_run_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ADMIN_TOKEN_ENV, EXPORTED)
    with ExitStack() as stack:
        context = LaunchContext(workdir=tmp_path, stack=stack, mock_config={})
        assert context.admin_token == EXPORTED  # read once, here
        mock_url, _service = context.start_mock()
        # The mock serves with the exported token: the development default is refused...
        refused = httpx.get(f"{mock_url}/_mock/stats", headers={"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"})
        assert refused.status_code == 401
        # ... and every call of the run carries the exported one: subscription, health polling, export.
        subscribe(mock_url, "http://127.0.0.1:9", context.admin_token)
        assert http_mock_stats(mock_url, context.admin_token, timeout_s=10)() is not None
        run = services(tmp_path, mock_url=mock_url, admin_token=context.admin_token)
        assert export_mock_records(run, tmp_path) == []
        assert (tmp_path / "ledger.parquet").stat().st_size > 0
