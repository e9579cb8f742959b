"""Container faults (docker SDK): kill, stop, pause, restart, network disconnect; restart count and health.

Only containers the harness created can be hit: the container must carry the label ``org.scrmbench.managed=true``
(``run_managed`` sets it when it starts a container; images never carry it, since containers inherit image
labels). Every docker call goes through one
client with a timeout, and every docker failure becomes a :class:`~ground.errors.FaultError` naming the
container and the action (Pumba's commands, without its helper containers: we only touch our own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field

from ground.errors import FaultError
from harness.faults.base import FaultParams, FaultTargets, register_fault

MANAGED_LABEL = "org.scrmbench.managed"


def docker_client(timeout_s: float = 30.0) -> Any:
    """A docker SDK client with a timeout on every call; a missing engine is a FaultError with the fix."""
    import docker

    try:
        client = docker.from_env(timeout=int(max(timeout_s, 1)))
        client.ping()
    except docker.errors.DockerException as exc:
        raise FaultError(
            f"no Docker engine answers ({exc}); start one (dockerd) or choose a process or proxy fault"
        ) from exc
    return client


def managed_container(client: Any, name: str) -> Any:
    import docker

    try:
        container = client.containers.get(name)
    except docker.errors.NotFound:
        raise FaultError(f"container {name!r} does not exist") from None
    except docker.errors.DockerException as exc:
        raise FaultError(f"cannot read container {name!r}: {exc}") from exc
    if container.labels.get(MANAGED_LABEL) != "true":
        raise FaultError(
            f"container {name!r} was not created by scrmbench (no {MANAGED_LABEL}=true label); refusing to touch it"
        )
    return container


def run_managed(client: Any, image: str, name: str, **kwargs: Any) -> Any:
    """Start a container the harness owns: labelled, host networking unless told otherwise, detached.

    ``create`` + ``start`` rather than the SDK's ``run``: ``run`` pulls a missing image from a registry, and the
    harness never pulls (build it with deploy/image instead); a missing image is a FaultError naming the fix.
    """
    import docker

    labels = {**kwargs.pop("labels", {}), MANAGED_LABEL: "true"}
    if "network" not in kwargs:
        kwargs.setdefault("network_mode", "host")
    try:
        container = client.containers.create(image, name=name, labels=labels, detach=True, **kwargs)
    except docker.errors.ImageNotFound:
        raise FaultError(f"image {image!r} is not on this machine; build it with deploy/image/build.sh") from None
    container.start()
    return container


@dataclass(frozen=True)
class ContainerStatus:
    status: str  # created | running | paused | restarting | exited | dead
    restart_count: int
    health: str | None  # starting | healthy | unhealthy, or None without a health check
    networks: tuple[str, ...]


def container_status(name: str, *, timeout_s: float = 30.0) -> ContainerStatus:
    client = docker_client(timeout_s)
    try:
        container = managed_container(client, name)
        container.reload()
        state = container.attrs.get("State", {})
        networks = container.attrs.get("NetworkSettings", {}).get("Networks") or {}
        health = (state.get("Health") or {}).get("Status")
        restarts = int(container.attrs.get("RestartCount", 0))
        return ContainerStatus(state.get("Status", "unknown"), restarts, health, tuple(networks))
    finally:
        client.close()


class ContainerParams(FaultParams):
    timeout_s: float = Field(30.0, gt=0, description="timeout of each docker call")


class _ContainerFault:
    Params: ClassVar[type[FaultParams]] = ContainerParams
    name: ClassVar[str]

    def __init__(self, params: Any, container_name: str, target_name: str) -> None:
        self.params = params
        self.container_name = container_name
        self._target = f"container:{target_name or container_name}"

    @property
    def target(self) -> str:
        return self._target

    @classmethod
    def build(cls, params: Any, targets: FaultTargets, target: str) -> _ContainerFault:
        return cls(params, targets.pick("containers", target), target)

    def _with_container(self, action: str, do: Any) -> None:
        import docker

        client = docker_client(self.params.timeout_s)
        try:
            container = managed_container(client, self.container_name)
            do(container, client)
        except docker.errors.DockerException as exc:
            raise FaultError(f"docker {action} of {self.container_name!r} failed: {exc}") from exc
        except OSError as exc:  # the SDK's read timeouts surface as requests/urllib3 errors (OSError subclasses)
            raise FaultError(f"docker {action} of {self.container_name!r} failed: {exc}") from exc
        finally:
            client.close()

    def _start_if_not_running(self) -> None:
        def start(container: Any, client: Any) -> None:
            container.reload()
            if container.status != "running":
                container.start()

        self._with_container("start", start)


class KillParams(ContainerParams):
    signal: str = Field("SIGKILL", description="signal sent to the container's main process")
    restart: bool = Field(False, description="start the container again when the fault is cleared")


@register_fault("container-kill")
class ContainerKill(_ContainerFault):
    """Kill a container the harness created (SIGKILL by default); optionally start it again on clear."""

    Params = KillParams

    def inject(self) -> None:
        self._with_container("kill", lambda c, _: c.kill(signal=self.params.signal))

    def clear(self) -> None:
        if self.params.restart:
            self._start_if_not_running()


class StopParams(ContainerParams):
    grace_s: int = Field(10, ge=0, description="seconds between SIGTERM and SIGKILL")


@register_fault("container-stop")
class ContainerStop(_ContainerFault):
    """Stop a container gracefully (SIGTERM, then SIGKILL after the grace period); start it on clear."""

    Params = StopParams

    def inject(self) -> None:
        self._with_container("stop", lambda c, _: c.stop(timeout=self.params.grace_s))

    def clear(self) -> None:
        self._start_if_not_running()


@register_fault("container-pause")
class ContainerPause(_ContainerFault):
    """Freeze every process of a container (cgroup freezer); unpause on clear."""

    def inject(self) -> None:
        self._with_container("pause", lambda c, _: c.pause())

    def clear(self) -> None:
        def unpause(container: Any, client: Any) -> None:
            container.reload()
            if container.status == "paused":
                container.unpause()

        self._with_container("unpause", unpause)


@register_fault("container-restart")
class ContainerRestart(_ContainerFault):
    """Restart a container (stop with a grace period, then start); nothing to undo on clear."""

    Params = StopParams

    def inject(self) -> None:
        self._with_container("restart", lambda c, _: c.restart(timeout=self.params.grace_s))

    def clear(self) -> None:
        self._start_if_not_running()


class NetworkParams(ContainerParams):
    network: str = Field(..., description="docker network to disconnect the container from")


@register_fault("container-network-disconnect")
class ContainerNetworkDisconnect(_ContainerFault):
    """Disconnect a container from a docker network; connect it again on clear (not for host networking)."""

    Params = NetworkParams

    def inject(self) -> None:
        network = self.params.network
        self._with_container("network disconnect", lambda c, client: client.networks.get(network).disconnect(c))

    def clear(self) -> None:
        def connect(container: Any, client: Any) -> None:
            container.reload()
            if self.params.network not in (container.attrs.get("NetworkSettings", {}).get("Networks") or {}):
                client.networks.get(self.params.network).connect(container)

        self._with_container("network connect", connect)
