"""``launch.kind: container``: the reference vendor in a container the harness owns, for container failover.

The container runs the runtime image (:mod:`harness.stack.image`, built locally, never pulled) with this
machine's interpreter, virtual environment and source mounted read-only, on the host's network (the vendor
listens on 127.0.0.1 like every service of a run: never a bridge network), labelled ``org.scrmbench.managed=true``
so the container faults may touch it, and with the run folder mounted read-write for its SQLite database, so what
the vendor acknowledged survives a kill. No restart policy: the failover fault's clear starts it again, so the
down window is the scenario's, not docker's.

It shares the host's process namespace and is told the harness's pid (``SCRMBENCH_PARENT_PID``, see
:mod:`ground.orphans`): a harness killed by SIGKILL takes the vendor down with it; the stopped container is then
left for ``docker rm``. Every other way out (end of run, error, Ctrl-C) removes it through the run's exit stack.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ground.errors import FaultError, HarnessError
from ground.net import free_port
from ground.orphans import parent_env
from harness.faults.container import docker_client, run_managed
from harness.stack.image import ensure_runtime_image, runtime_mounts

log = logging.getLogger(__name__)

RUN_LABEL = "org.scrmbench.run"  # the run folder the container belongs to (find leftovers with docker ps -a)
# Passed through when set here; unset, the vendor uses its documented loopback development defaults.
SECRET_ENVS = ("REFERENCE_API_KEY", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN")


@dataclass(frozen=True)
class VendorContainer:
    name: str
    base_url: str
    image: str


def container_name(profile_name: str) -> str:
    return f"scrmbench-{profile_name}-{uuid.uuid4().hex[:8]}"


def _environment() -> dict[str, str]:
    env = {"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "HOME": "/tmp", **parent_env()}
    env.update({name: os.environ[name] for name in SECRET_ENVS if name in os.environ})
    return env


def start_vendor_container(
    behaviour: str,
    *,
    whatsapp_url: str,
    run_dir: Path,
    stack: ExitStack,
    name: str,
    port: int | None = None,
    start_timeout_s: float = 60.0,
    client_factory: Callable[[], Any] = docker_client,
) -> VendorContainer:
    """Start the reference vendor (``behaviour``: steady, degrading, ...) in a container; wait until healthy.

    Its removal (logs saved to ``logs/<name>.log`` first) is registered on ``stack`` before it is started, so an
    error or Ctrl-C at any later point still removes it.
    """
    client = client_factory()
    stack.callback(client.close)
    image = ensure_runtime_image(client)
    port = port or free_port()
    run_dir = run_dir.resolve()
    db_path = run_dir / "vendor.db"
    command = [
        sys.executable, "-m", "harness.commands.vendor", "vendor", "serve", "reference", "--profile", behaviour,
        "--port", str(port), "--whatsapp-url", whatsapp_url, "--db", str(db_path), "--instance", name,
    ]  # fmt: skip
    stack.callback(_remove, client, name, run_dir / "logs" / f"{name}.log")
    run_managed(
        client,
        image,
        name,
        command=command,
        network_mode="host",
        pid_mode="host",
        user=f"{os.getuid()}:{os.getgid()}",
        environment=_environment(),
        volumes=runtime_mounts(rw=[run_dir]),
        working_dir=str(run_dir),
        labels={RUN_LABEL: str(run_dir)},
    )
    base_url = f"http://127.0.0.1:{port}"
    wait_healthy(client, name, f"{base_url}/health", start_timeout_s)
    return VendorContainer(name, base_url, image)


def wait_healthy(client: Any, name: str, health_url: str, timeout_s: float) -> None:
    """Poll the vendor's health until 200; a container that exits first is an error with its last log lines."""
    import docker

    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    with httpx.Client(timeout=1.0) as http:
        while time.monotonic() < deadline:
            try:
                if http.get(health_url).status_code == 200:
                    return
                last = "health check did not answer 200"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            try:
                container = client.containers.get(name)
            except docker.errors.DockerException as exc:
                raise FaultError(f"container {name!r} vanished while starting: {exc}") from exc
            if container.status in ("exited", "dead"):
                tail = container.logs(tail=20).decode(errors="replace").strip()
                raise HarnessError(f"the vendor container {name!r} exited before it was healthy:\n{tail}")
            time.sleep(0.1)  # polling a real container's readiness, not faking a behaviour
    raise HarnessError(
        f"the vendor container {name!r} did not answer 200 at {health_url} within {timeout_s:g} s ({last})"
    )


def _remove(client: Any, name: str, log_path: Path) -> None:
    """Save the container's output to the run's logs, then remove it (forcefully: it may still be running)."""
    import docker

    try:
        container = client.containers.get(name)
    except docker.errors.NotFound:
        return
    except (docker.errors.DockerException, OSError) as exc:
        log.error("could not find container %s to remove it: %s", name, exc)
        return
    with contextlib.suppress(docker.errors.DockerException, OSError):
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_bytes(container.logs())
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except (docker.errors.DockerException, OSError) as exc:
        log.error("could not remove container %s: %s (remove it with: docker rm -f %s)", name, exc, name)
