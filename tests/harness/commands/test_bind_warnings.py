"""``scrmbench run --master-host`` with a non-loopback address says that the Locust master is reachable from
other hosts. The runner is replaced, so nothing binds or connects anywhere: only the decision and the warning run."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.cli import main
from harness.run.runner import RunRequest

VENDORS = Path(__file__).resolve().parents[3] / "vendors"
FAR_HOST = "192.0.2.10"  # RFC 5737 TEST-NET-1: never routed, and never used here beyond the check


@pytest.fixture
def executed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[RunRequest]:
    requests: list[RunRequest] = []

    def fake_execute(request: RunRequest) -> Any:
        requests.append(request)
        return SimpleNamespace(run_dir=tmp_path / "run", manifest=SimpleNamespace(complete=True), sla_met=True)

    monkeypatch.setattr("harness.run.runner.execute", fake_execute)
    return requests


def run_args(*extra: str) -> list[str]:
    return ["run", "--vendor", str(VENDORS / "reference-steady.yaml"), "--scenario", "peak", "--no-progress", *extra]


@pytest.mark.parametrize("host", [FAR_HOST, "0.0.0.0"])
def test_a_master_bound_beyond_loopback_is_announced(
    host: str, executed: list[RunRequest], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(run_args("--workers", "2", "--master-host", host)) == 0
    assert [request.master_host for request in executed] == [host]
    err = " ".join(capsys.readouterr().err.split())  # rich may wrap the line
    assert f"warning: the Locust master binds {host}: reachable by other hosts" in err


def test_the_default_loopback_master_prints_no_warning(
    executed: list[RunRequest], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(run_args("--workers", "2")) == 0
    assert [request.master_host for request in executed] == ["127.0.0.1"]
    assert "warning" not in capsys.readouterr().err
