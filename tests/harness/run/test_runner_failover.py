"""failover.method in the vendor profile decides what the failover step hits: a proxy run end to end, and the
container method's target checked (with a fake docker client) before anything starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker
import pytest
import yaml

from ground.errors import EXIT_BAD_INPUT, ConfigError
from ground.records import RunManifest
from ground.services import ServiceProcess
from harness.adapters.registry import load_profile
from harness.config.profiles import FailoverConfig
from harness.faults import REGISTRY, ProxyTarget
from harness.faults.container import MANAGED_LABEL
from harness.faults.timeline import read_timeline
from harness.recorder import read_requests
from harness.run.faults import resolve, resolve_target
from harness.run.runner import execute
from harness.stack.failover import failover_containers
from harness.stack.services import RunServices, start_services
from plan.load import FaultStep
from tests.fixtures.runs import quiet_run_request
from tests.fixtures.vendors import SHIPPED_PROFILES

STEADY = SHIPPED_PROFILES / "reference-steady.yaml"


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_proxy_failover_refuses_connections_for_the_window_then_recovers(tmp_path: Path) -> None:
    request = quiet_run_request(
        tmp_path,
        "failover",
        vendor="reference-proxy-failover.yaml",
        overrides={"duration_s": 8, "rate": 5, "kill_at_s": 2, "down_s": 2, "drain_s": 1},
        seed=4,
    )
    run_dir = execute(request).run_dir
    assert RunManifest.model_validate_json((run_dir / "manifest.json").read_text()).complete
    effective = yaml.safe_load((run_dir / "vendor-profile.yaml").read_text())
    assert effective["base_url"] != "http://127.0.0.1:8910"  # the load went to the proxy, not the vendor
    events = [e for e in read_timeline(run_dir / "faults.jsonl") if e.action in ("inject", "clear")]
    assert [(e.action, e.fault, e.target, e.ok) for e in events] == [
        ("inject", "proxy-down", "proxy:primary", True),
        ("clear", "proxy-down", "proxy:primary", True),
    ]
    down_from, down_to = events[0].at, events[1].at
    requests = read_requests(run_dir).to_pandas()
    during = requests[(requests["started_at"] > down_from + 0.2) & (requests["ended_at"] < down_to - 0.2)]
    after = requests[requests["started_at"] > down_to + 0.5]
    assert len(during) > 0 and (during["outcome"] != "ok").all(), during[["outcome", "error_text"]]
    assert len(after) > 0 and (after["outcome"] == "ok").mean() > 0.9, after["error_text"].value_counts()


class FakeContainers:
    def __init__(self, known: dict[str, dict[str, str]]) -> None:
        self.known = known

    def get(self, name: str) -> Any:
        if name not in self.known:
            raise docker.errors.NotFound(f"No such container: {name}")
        return type("Container", (), {"labels": self.known[name]})()


class FakeDocker:
    """The slice of the docker SDK client the target check uses; records that it was closed."""

    def __init__(self, known: dict[str, dict[str, str]]) -> None:
        self.containers = FakeContainers(known)
        self.closed = False

    def close(self) -> None:
        self.closed = True


def _container_profile(target: str) -> Any:
    return load_profile(STEADY).model_copy(update={"failover": FailoverConfig(method="container", target=target)})


def test_a_managed_container_becomes_the_primary_container_target() -> None:
    client = FakeDocker({"vendor-a": {MANAGED_LABEL: "true"}})
    found = failover_containers(_container_profile("vendor-a"), source="p.yaml", docker_factory=lambda: client)
    assert found == {"primary": "vendor-a"} and client.closed


@pytest.mark.parametrize(
    ("known", "message"),
    [({}, "does not exist"), ({"vendor-a": {"com.example": "x"}}, "not created by scrmbench")],
    ids=["missing", "unlabelled"],
)
def test_a_missing_or_foreign_container_is_refused_before_anything_starts(
    tmp_path: Path, known: dict[str, dict[str, str]], message: str
) -> None:
    client = FakeDocker(known)
    with pytest.raises(ConfigError, match=message) as caught:
        start_services(_container_profile("vendor-a"), tmp_path, source="p.yaml", docker_factory=lambda: client)
    error = caught.value
    assert error.exit_code == EXIT_BAD_INPUT and error.field == "failover.target" and error.value == "vendor-a"
    assert "p.yaml" in str(error) and "process or proxy" in str(error)
    assert client.closed and not any(tmp_path.iterdir())  # no mock, vendor or effective profile was started


def test_other_methods_never_ask_docker() -> None:
    def no_docker() -> Any:
        raise AssertionError("docker was asked")

    for method in ("process", "proxy"):
        profile = load_profile(STEADY).model_copy(update={"failover": FailoverConfig(method=method)})  # type: ignore[arg-type]
        assert failover_containers(profile, source="p.yaml", docker_factory=no_docker) == {}


@pytest.mark.parametrize(
    ("method", "fault", "target"),
    [("process", "process-kill", "process:primary"), ("container", "container-kill", "container:primary"),
     ("proxy", "proxy-down", "proxy:primary"), ("upstream", "upstream-outage", "upstream:mock")],
)  # fmt: skip
def test_each_method_builds_its_fault_against_the_runs_targets(
    tmp_path: Path, method: str, fault: str, target: str
) -> None:
    """The step names "primary"; each method's fault finds its target among what the run provides."""
    profile = load_profile(STEADY).model_copy(
        update={"failover": FailoverConfig(method=method, target="vendor-a" if method == "container" else None)}  # type: ignore[arg-type]
    )
    never_started = ServiceProcess.python_module("primary", ["version"], health_url="http://127.0.0.1:1/")
    proxy = ProxyTarget(control=None, proxy="primary")  # type: ignore[arg-type]  # built, never injected here
    services = RunServices(
        profile,
        tmp_path,
        mock_url="http://127.0.0.1:1",
        processes={"primary": never_started},
        proxies={"primary": proxy},
        containers={"primary": "vendor-a"},
    )
    step = FaultStep(10, "failover", target="primary", duration_s=5)
    name, params = resolve(step, services)
    built = REGISTRY.get(name).create(params, services.fault_targets(), resolve_target(step, services))
    assert (name, built.target) == (fault, target)
