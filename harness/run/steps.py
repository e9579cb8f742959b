"""Before and after the load: a scenario's setup steps, and the export of the mock's ledger and webhook attempts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from ground.errors import HarnessError
from harness.faults.timeline import FaultTimeline
from harness.results import disk_guard
from harness.stack.services import RunServices, mock_admin_token
from plan.load import SetupStep


def run_setup_step(step: SetupStep, services: RunServices, timeline: FaultTimeline) -> None:
    headers = {"Authorization": f"Bearer {services.admin_token}"}
    if step.action == "mock-limits" and services.mock_url:
        httpx.patch(f"{services.mock_url}/_mock/limits", json=dict(step.params), headers=headers, timeout=10)
    elif step.action == "vendor-seed":
        seed_vendor(services, int(step.params.get("conversations", 0)), int(step.params.get("seed", 0)))
    timeline.record("note", f"setup:{step.action}", params=dict(step.params))


def seed_vendor(services: RunServices, conversations: int, seed: int) -> None:
    handle = services.vendor_handle
    db_path = getattr(handle, "db_path", None)
    if db_path is None:
        raise HarnessError(
            "the data-volume scenario seeds a reference vendor's store; this vendor was not started here"
        )
    command = [
        sys.executable,
        "-m",
        "harness.cli",
        "vendor",
        "seed",
        "--db",
        str(db_path),
        "--conversations",
        str(conversations),
        "--seed",
        str(seed),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise HarnessError(f"seeding the vendor to {conversations} conversations failed: {done.stderr[-300:]}")


def export_mock_records(services: RunServices, run_dir: Path) -> list[str]:
    """The mock's ledger and webhook attempts, as Parquet; returns notes for the manifest."""
    if not services.mock_url:
        return ["no mock in this run: delivery and webhook figures cannot be measured"]
    return export_mock_records_from(services.mock_url, run_dir, services.admin_token)


def export_mock_records_from(mock_url: str, run_dir: Path, admin_token: str | None = None) -> list[str]:
    """``export_mock_records`` for a mock at ``mock_url`` (also a plain Locust run's, ``harness.run.plain_finish``);
    ``admin_token`` None: ``SCRMBENCH_MOCK_ADMIN_TOKEN`` or the development default."""
    notes = []
    headers = {"Authorization": f"Bearer {mock_admin_token() if admin_token is None else admin_token}"}
    for route, name in (("/_mock/ledger", "ledger.parquet"), ("/_mock/webhooks/attempts", "webhooks.parquet")):
        try:
            answer = httpx.get(f"{mock_url}{route}", params={"format": "parquet"}, headers=headers, timeout=120)
        except httpx.HTTPError as exc:
            notes.append(f"{name} not exported: {type(exc).__name__} (the mock may have crashed)")
            continue
        if answer.status_code != 200:
            notes.append(f"{name} not exported: the mock answered {answer.status_code}")
            continue
        try:
            (run_dir / name).write_bytes(answer.content)
        except OSError as exc:
            raise disk_guard(run_dir, exc) from exc
    return notes
