"""Container faults on a real container (busybox httpd, host networking, image built locally by deploy/image)."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ground.errors import FaultError
from harness.faults import REGISTRY, FaultTargets, FaultTimeline
from harness.faults.container import container_status, run_managed
from tests.fixtures.docker import HttpContainer

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(180)]


def answers(url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def eventually(check: Callable[[], bool], within_s: float = 30.0) -> bool:
    """Poll a real container's state until it holds; bounded. Not a timing assertion."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def fault(name: str, box: HttpContainer, **params: Any) -> Any:
    return REGISTRY.get(name).create(params, FaultTargets(containers={"vendor": box.name}), "vendor")


def test_kill_and_restart_on_clear(http_container: HttpContainer, tmp_path: Path) -> None:
    assert eventually(lambda: answers(http_container.url))
    kill = fault("container-kill", http_container, restart=True)
    timeline = FaultTimeline(tmp_path / "faults.jsonl")
    timeline.apply(kill, "inject", "k1")
    assert container_status(http_container.name).status == "exited"
    assert not answers(http_container.url)
    timeline.apply(kill, "clear", "k1")
    assert eventually(lambda: answers(http_container.url))
    assert [(e.action, e.target) for e in timeline.events] == [
        ("inject", "container:vendor"),
        ("clear", "container:vendor"),
    ]


def test_stop_and_start(http_container: HttpContainer) -> None:
    stop = fault("container-stop", http_container, grace_s=1)
    stop.inject()
    assert container_status(http_container.name).status == "exited"
    stop.clear()
    assert eventually(lambda: answers(http_container.url))


def test_pause_freezes_and_unpause_thaws(http_container: HttpContainer) -> None:
    assert eventually(lambda: answers(http_container.url))
    pause = fault("container-pause", http_container)
    pause.inject()
    try:
        assert container_status(http_container.name).status == "paused"
        assert not answers(http_container.url, timeout=0.5)
    finally:
        pause.clear()
    assert eventually(lambda: answers(http_container.url))
    pause.clear()  # idempotent


def test_restart_fault_and_restart_count_and_health(http_container: HttpContainer, docker_client: Any) -> None:
    assert eventually(lambda: container_status(http_container.name).health == "healthy")
    fault("container-restart", http_container, grace_s=1).inject()
    assert eventually(lambda: answers(http_container.url))

    # A crash (not a docker command) lets the restart policy act, and the restart count shows it.
    http_container.container.update(restart_policy={"Name": "on-failure", "MaximumRetryCount": 3})
    http_container.container.reload()
    os.kill(http_container.container.attrs["State"]["Pid"], signal.SIGKILL)
    assert eventually(lambda: container_status(http_container.name).restart_count >= 1)
    assert eventually(lambda: container_status(http_container.name).health == "healthy")


def test_network_disconnect_and_connect(docker_client: Any, busybox_image: str) -> None:
    # Host networking cannot be disconnected, so this one container sits on an internal network the test creates
    # (no route out, and no traffic is sent: only docker's view of the attachment is checked).
    net_name = f"scrmbench-test-{uuid.uuid4().hex[:8]}"
    network = docker_client.networks.create(net_name, internal=True, labels={"org.scrmbench.managed": "true"})
    name = f"scrmbench-test-{uuid.uuid4().hex[:10]}"
    container = run_managed(
        docker_client, busybox_image, name, network=net_name, command=["/bin/busybox", "sleep", "300"]
    )
    try:
        targets = FaultTargets(containers={"c": name})
        disconnect = REGISTRY.get("container-network-disconnect").create({"network": net_name}, targets, "c")
        disconnect.inject()
        assert net_name not in container_status(name).networks
        disconnect.clear()
        assert net_name in container_status(name).networks
    finally:
        container.remove(force=True)
        network.remove()


def test_a_container_scrmbench_did_not_create_is_refused(docker_client: Any, busybox_image: str) -> None:
    name = f"scrmbench-test-foreign-{uuid.uuid4().hex[:8]}"
    # Created directly through the SDK, without the managed label: it stands for somebody else's container.
    foreign = docker_client.containers.create(busybox_image, name=name, command=["/bin/busybox", "true"])
    try:
        kill = REGISTRY.get("container-kill").create({}, FaultTargets(containers={"x": name}), "x")
        with pytest.raises(FaultError, match="was not created by scrmbench"):
            kill.inject()
        missing = REGISTRY.get("container-kill").create({}, FaultTargets(containers={"x": "no-such-container"}), "x")
        with pytest.raises(FaultError, match="does not exist"):
            missing.inject()
    finally:
        foreign.remove(force=True)
