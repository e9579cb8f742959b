"""The run's health sampler: which process of a run plays which role, and the sampler's start and end.

The runner, the Locust processes and an in-process chaos proxy are the harness; the mock is the mock; every
process or container the run started for the candidate (``vendor``, ``primary``, ``standby``, ``front``, a
container's main process) is the candidate. ``harness.health`` does the sampling.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from harness.health import HealthSampler, http_mock_stats, merge_health

log = logging.getLogger(__name__)


def role_of(service: str) -> str:
    return "mock" if service == "mock" or service.startswith("mock-") else "candidate"


def container_pid(name: str) -> int | None:
    """The host pid of a running container's main process (containers run with the host's pid namespace)."""
    try:
        from harness.faults.container import docker_client

        client = docker_client()
        try:
            pid = client.containers.get(name).attrs.get("State", {}).get("Pid")
        finally:
            client.close()
    except Exception as exc:  # no engine, no container: its health is simply not observed
        log.debug("container %s not observable: %s", name, exc)
        return None
    return int(pid) if isinstance(pid, int) and pid > 0 else None


def start_health(run_dir: Path, services: Any) -> HealthSampler:
    """Start sampling the runner, every service the run started, the containers and the mock's own figures."""
    poll = http_mock_stats(services.mock_url, services.admin_token) if services.mock_url else None
    sampler = HealthSampler(run_dir, mock_stats=poll)
    sampler.watch("runner", os.getpid(), "harness")  # the chaos proxy, when in-process, is counted here
    for name, service in services.processes.items():
        if service.process is not None and service.alive():
            sampler.watch(name, service.pid, role_of(name), children=True)
    containers = set(services.containers.values())
    handle = services.vendor_handle
    if handle is not None and hasattr(handle, "image") and hasattr(handle, "name"):  # a VendorContainer
        containers.add(handle.name)
    for name in sorted(containers):
        pid = container_pid(name)
        if pid is not None:
            sampler.watch(f"container:{name}", pid, "candidate", children=True)
    return sampler.start()


def watch_locust(sampler: HealthSampler | None, processes: dict[str, Any]) -> None:
    """The Locust processes of a phase (``local``, ``master``, ``workerN``): role harness."""
    if sampler is None:
        return
    for name, process in processes.items():
        sampler.watch(name, process.pid, "harness")


def unwatch_locust(sampler: HealthSampler | None, processes: dict[str, Any]) -> None:
    if sampler is None:
        return
    for name in processes:
        sampler.unwatch(name)


def stop_health(sampler: HealthSampler | None, run_dir: Path) -> None:
    """Stop sampling and fold every health shard (the runner's and the Locust processes') into health.parquet."""
    if sampler is not None:
        sampler.stop()
    with contextlib.suppress(OSError, Exception):
        merge_health(run_dir)
