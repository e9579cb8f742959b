"""What the vendor profile's ``failover.method`` needs from the run before any load: a proxy, or a checked container.

``process`` needs nothing (the runner started the primary and holds its process). ``proxy`` puts the in-process
chaos proxy in front of the candidate's base URL and the load goes through it, so ``proxy-down`` can refuse
connections for the fault's duration. ``container`` names a container the harness created: it is checked here,
before anything starts, so a missing or foreign container is refused in seconds rather than when the fault fires
minutes into the load.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from ground.errors import ConfigError, FaultError
from harness.config.profiles import VendorProfile
from harness.faults.container import MANAGED_LABEL, docker_client
from harness.faults.proxy.control import ProxyTarget
from harness.faults.proxy.endpoint import proxy_in_front

PRIMARY = "primary"  # the target name the failover scenario's step uses

DockerFactory = Callable[[], Any]


def failover_containers(
    profile: VendorProfile, *, source: str, docker_factory: DockerFactory | None = None
) -> dict[str, str]:
    """``{"primary": name}`` for ``method: container`` once the container is found and carries the label."""
    failover = profile.failover
    if failover is None or failover.method != "container":
        return {}
    name = failover.target or ""
    client = (docker_factory or docker_client)()
    try:
        _check_managed(client, name, source)
    finally:
        client.close()
    return {PRIMARY: name}


def _check_managed(client: Any, name: str, source: str) -> None:
    import docker

    fix = (
        "name a container scrmbench started (run_managed labels it "
        f"{MANAGED_LABEL}=true), or choose failover.method process or proxy"
    )
    try:
        container = client.containers.get(name)
    except docker.errors.NotFound:
        raise ConfigError(
            "the failover container does not exist", source=source, field="failover.target", value=name, fix=fix
        ) from None
    except (docker.errors.DockerException, OSError) as exc:
        raise FaultError(f"cannot read container {name!r} named by failover.target in {source}: {exc}") from exc
    # The same rule the container faults apply: only containers the harness created may be hit.
    if container.labels.get(MANAGED_LABEL) != "true":
        raise ConfigError(
            f"the failover container was not created by scrmbench (no {MANAGED_LABEL}=true label); "
            "refusing to touch it",
            source=source,
            field="failover.target",
            value=name,
            fix=fix,
        )


def failover_proxy(profile: VendorProfile, stack: ExitStack) -> tuple[VendorProfile, dict[str, ProxyTarget]]:
    """For ``method: proxy``: the profile with base_url through a chaos proxy (stopped with ``stack``)."""
    if profile.failover is None or profile.failover.method != "proxy":
        return profile, {}
    endpoint = stack.enter_context(
        proxy_in_front(profile.base_url, name=PRIMARY, allowed_upstreams=tuple(profile.allowed_targets))
    )
    return profile.model_copy(update={"base_url": endpoint.base_url}), {PRIMARY: endpoint.target}
