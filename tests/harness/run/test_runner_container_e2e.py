"""Container failover end to end against a real Docker engine: ``launch.kind: container`` runs the reference vendor
in a scrmbench-labelled container (runtime image built locally, host networking), the failover step kills that
container and starts it again on clear, and the run's records, timeline and recovery analysis show it.

Skipped, with the reason, only where no Docker engine answers or can be started (tests/fixtures/docker.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from analysis.load import load_run
from analysis.summary import build_summary
from ground.records import RunManifest
from harness.adapters.registry import load_profile
from harness.faults.container import MANAGED_LABEL
from harness.faults.timeline import read_timeline
from harness.recorder import read_requests
from harness.run.runner import execute
from harness.stack.container import RUN_LABEL, container_name, start_vendor_container
from harness.stack.image import ensure_runtime_image
from harness.stack.services import start_services
from tests.fixtures.runs import quiet_run_request

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(300)]

VENDOR = Path(__file__).resolve().parents[3] / "vendors" / "reference-container-failover.yaml"
# Tiny, but with room after the clear for the container's Python to start again and for the confirmation window.
FAILOVER = {"duration_s": 16, "rate": 5, "kill_at_s": 3, "down_s": 3, "drain_s": 2,
            "recovery_short_window_s": 1, "recovery_confirm_s": 3}  # fmt: skip


def _ours(client: Any, root: Path) -> list[Any]:
    """Containers started for runs under ``root`` (their run label names the run folder)."""
    found = client.containers.list(all=True, filters={"label": RUN_LABEL})
    return [c for c in found if c.labels.get(RUN_LABEL, "").startswith(str(root.resolve()))]


@pytest.fixture
def engine(docker_client: Any, tmp_path: Path) -> Iterator[Any]:
    """The Docker engine; whatever a test leaves behind under its tmp_path is removed, also when it fails."""
    try:
        yield docker_client
    finally:
        for container in _ours(docker_client, tmp_path):
            with contextlib.suppress(Exception):
                container.remove(force=True)


def test_container_failover_run_kills_the_real_container_and_recovers(engine: Any, tmp_path: Path) -> None:
    request = quiet_run_request(tmp_path, "failover", vendor=VENDOR, overrides=FAILOVER, seed=5)
    run_dir = execute(request).run_dir
    assert RunManifest.model_validate_json((run_dir / "manifest.json").read_text()).complete

    effective = yaml.safe_load((run_dir / "vendor-profile.yaml").read_text())
    name = effective["failover"]["target"]
    assert effective["failover"]["method"] == "container" and name.startswith("scrmbench-reference-container")
    assert effective["base_url"] != "http://127.0.0.1:8930"  # the container's real port
    # The runner removed its container; what it printed is kept in the run's logs.
    assert _ours(engine, tmp_path) == []
    assert (run_dir / "logs" / f"{name}.log").exists()

    events = [e for e in read_timeline(run_dir / "faults.jsonl") if e.action in ("inject", "clear")]
    assert [(e.action, e.fault, e.target, e.ok) for e in events] == [
        ("inject", "container-kill", "container:primary", True),
        ("clear", "container-kill", "container:primary", True),
    ]
    down_from, down_to = events[0].at, events[1].at
    requests = read_requests(run_dir).to_pandas()
    during = requests[(requests["started_at"] > down_from + 0.2) & (requests["ended_at"] < down_to - 0.2)]
    assert len(during) > 0 and (during["outcome"] != "ok").all(), during[["outcome", "error_text"]]
    after = requests[requests["started_at"] > down_to]
    assert (after["outcome"] == "ok").any(), after["error_text"].value_counts()
    # Failures right after the clear while the container's Python starts again, then only successes.
    failed_after = after[after["outcome"] != "ok"]
    settled = after[after["started_at"] > failed_after["started_at"].max()] if len(failed_after) else after
    assert len(settled) > 0 and (settled["outcome"] == "ok").all()

    summary = build_summary(load_run(run_dir))
    faults = summary["recovery"]["faults"]
    assert len(faults) == 1 and faults[0]["recovered"], faults
    ttr = faults[0]["ttr_sustained_s"]
    assert ttr is not None and 0 < ttr < FAILOVER["duration_s"], faults[0]
    # Acknowledged messages were kept on the mounted database across the kill.
    assert summary["recovery"]["lost_messages"] == 0, summary["recovery"]


def test_the_container_is_removed_when_the_start_is_interrupted(engine: Any, tmp_path: Path) -> None:
    """Ctrl-C after the vendor container started: the run's exit stack still removes it (and keeps its log)."""
    name = container_name("interrupted")
    with pytest.raises(KeyboardInterrupt), ExitStack() as stack:
        vendor = start_vendor_container("steady", whatsapp_url="http://127.0.0.1:1", run_dir=tmp_path, stack=stack,
                                        name=name)  # fmt: skip
        assert httpx.get(f"{vendor.base_url}/health", timeout=5).status_code == 200
        container = engine.containers.get(name)
        assert container.labels[MANAGED_LABEL] == "true" and container.attrs["HostConfig"]["NetworkMode"] == "host"
        raise KeyboardInterrupt
    assert _ours(engine, tmp_path) == []
    assert (tmp_path / "logs" / f"{name}.log").exists()


def test_start_services_names_the_started_container_as_the_primary(engine: Any, tmp_path: Path) -> None:
    services = start_services(load_profile(VENDOR), tmp_path, source=str(VENDOR), seed=1)
    try:
        (name,) = services.containers.values()
        assert services.fault_targets().containers == {"primary": name}
        assert engine.containers.get(name).status == "running"
        assert services.profile.failover is not None and services.profile.failover.target == name
    finally:
        services.close()
    assert _ours(engine, tmp_path) == []


def test_the_runtime_image_is_built_once_and_found_by_its_tag(engine: Any) -> None:
    tag = ensure_runtime_image(engine)
    image = engine.images.get(tag)
    assert ensure_runtime_image(engine) == tag and engine.images.get(tag).id == image.id
    assert image.labels.get("org.scrmbench.image") == "true" and MANAGED_LABEL not in image.labels
