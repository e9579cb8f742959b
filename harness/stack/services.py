"""Start what a vendor profile says to start, on loopback, for one run; stop it all afterwards.

``launch.kind`` in the profile decides: ``reference`` / ``ha-pair`` start the mock WhatsApp API and a reference
vendor (``mocks.vendors.launch``) pointed at it and subscribe the vendor's webhook receiver at the mock;
``container`` starts the mock and the reference vendor in a container scrmbench builds and owns
(``harness.stack.container``: host networking, labelled, removed at the end), the run's ``primary`` container;
``facade`` starts the mock and a BSP-shaped facade in front of it (``harness.stack.local.start_facade``);
``mock`` starts the mock alone, which is then the target; each writes an *effective* profile (the real base URL
and mock URL) into the results folder. ``none`` starts nothing and uses the profile as written. Every URL is
checked with ``ground.net.check_target`` before any request.

The run's seed reaches the mock twice: its top-level ``seed`` (BSUIDs, not-on-WhatsApp picks, faults) and the
webhook engine's ``webhooks.seed`` (ladders, duplicates, reordering, simulated customers), so a run is
reproducible from ``--seed``. Explicit ``mock_settings`` still win.

``proxy=True`` (a ``--faults`` schedule with ``proxy-*`` faults) puts the in-process chaos proxy in front of the
vendor as ``failover.method: proxy`` does, named ``primary`` among the run's proxy targets, so toxics act on
the load; with ``failover.method: proxy`` that one proxy serves both.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from ground.errors import HarnessError
from ground.net import check_target, free_port
from ground.services import ServiceProcess
from harness.config.profiles import VendorProfile
from harness.faults.base import FaultTargets, ProxyTarget, UpstreamTarget
from harness.faults.container import docker_client
from harness.faults.proxy.endpoint import proxy_in_front
from harness.stack.container import container_name, start_vendor_container
from harness.stack.failover import PRIMARY, DockerFactory, failover_containers, failover_proxy
from harness.stack.local import start_facade

log = logging.getLogger(__name__)

MOCK_ADMIN_TOKEN = "mock-admin-token"  # the mock's documented development default (docs/contracts.md)


@dataclass
class RunServices:
    profile: VendorProfile
    profile_path: Path
    mock_url: str = ""
    mock: ServiceProcess | None = None
    vendor_handle: Any = None
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    stack: ExitStack = field(default_factory=ExitStack)
    proxies: dict[str, ProxyTarget] = field(default_factory=dict)  # failover.method proxy: the one in front
    containers: dict[str, str] = field(default_factory=dict)  # failover.method container: its checked target

    def fault_targets(self) -> FaultTargets:
        upstream = {"mock": UpstreamTarget(self.mock_url, MOCK_ADMIN_TOKEN)} if self.mock_url else {}
        return FaultTargets(
            processes=dict(self.processes),
            containers=dict(self.containers),
            proxies=dict(self.proxies),
            upstream=upstream,
        )

    def crashed(self) -> list[str]:
        """Names of services the run started that are no longer running (reported on the timeline)."""
        return [name for name, service in self.processes.items() if service.process is not None and not service.alive()]

    def close(self) -> None:
        self.stack.close()


@dataclass(frozen=True)
class PlannedTarget:
    """Stands for a target that does not exist yet: faults are built against it only to check names and params."""

    name: str

    @property
    def proxy(self) -> str:  # what a proxy fault reads from its target when built
        return self.name


def planned_targets(profile: VendorProfile, *, proxy: bool = False) -> FaultTargets:
    """The fault target names a run of ``profile`` will have, before anything starts (values are placeholders).

    Mirrors ``_start``: the mock (a process and the upstream target) unless ``launch.kind: none`` without a mock
    URL; ``primary`` (and an HA pair's ``standby`` and ``front``) for what the run launches; the ``primary``
    container for ``launch.kind: container`` or ``failover.method: container``; the ``primary`` proxy for
    ``failover.method: proxy`` or a schedule's ``proxy-*`` faults. A name listed here that the run then does not
    have is still refused by the fault runner once the services are up.
    """
    kind = profile.launch.kind
    method = profile.failover.method if profile.failover else None
    planned: dict[str, Any] = {name: PlannedTarget(name) for name in ("mock", PRIMARY, "standby", "front")}
    has_mock = kind != "none" or bool(profile.capabilities.mock_url)
    return FaultTargets(
        processes={name: planned[name] for name in _PLANNED_PROCESSES.get(kind, ())},
        containers={PRIMARY: PRIMARY} if kind == "container" or method == "container" else {},
        proxies={PRIMARY: planned[PRIMARY]} if proxy or method == "proxy" else {},
        upstream={"mock": planned["mock"]} if has_mock else {},
    )


_PLANNED_PROCESSES = {
    "reference": ("mock", "primary"),
    "ha-pair": ("mock", "primary", "standby", "front"),
    "container": ("mock",),
    "facade": ("mock", "primary"),
    "mock": ("mock",),
}


# A trial loads the vendor, not WhatsApp's business policy: business-initiated free-form text and more than 250
# new users a day would otherwise be refused by the mock before the vendor is measured. Scenarios that test the
# limits (throttle) change them live through the control plane.
RUN_MOCK_CONFIG: dict[str, Any] = {"limits": {"enforce_customer_window": False, "tier": "unlimited"}}


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = (
            _merged(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


def run_mock_config(seed: int | None, mock_settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run's mock config: relaxed limits, the run's seed in both of the mock's seeds, then ``mock_settings``."""
    seeded: dict[str, Any] = {} if seed is None else {"seed": seed, "webhooks": {"seed": seed}}
    return _merged(_merged(RUN_MOCK_CONFIG, seeded), mock_settings or {})


def _start_mock(run_dir: Path, stack: ExitStack, port: int, mock_config: dict[str, Any]) -> tuple[str, ServiceProcess]:
    base = f"http://127.0.0.1:{port}"
    config = run_dir / "mock-config.yaml"
    config.write_text(yaml.safe_dump(mock_config), encoding="utf-8")
    service = ServiceProcess.python_module(
        "mock",
        ["mock", "serve", "--port", str(port), "--config", str(config)],
        health_url=f"{base}/_mock/health",
        log_path=run_dir / "logs" / "mock.log",
    )
    stack.callback(service.stop)
    service.start()
    return base, service


def _subscribe(mock_url: str, vendor_url: str) -> None:
    body = {"callback_url": f"{vendor_url}/webhooks/whatsapp", "verify_token": "scrmbench", "skip_verification": True}
    headers = {"Authorization": f"Bearer {MOCK_ADMIN_TOKEN}"}
    try:
        answer = httpx.post(f"{mock_url}/_mock/subscriptions", json=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise HarnessError(f"could not subscribe the vendor's webhooks at the mock ({exc})") from exc
    if answer.status_code >= 300:
        raise HarnessError(f"the mock refused the webhook subscription: {answer.status_code} {answer.text[:200]}")


def start_services(
    profile: VendorProfile,
    run_dir: Path,
    *,
    owner_confirmed: bool = False,
    source: str = "the vendor profile",
    docker_factory: DockerFactory | None = None,
    mock_settings: dict[str, Any] | None = None,
    seed: int | None = None,
    proxy: bool = False,
) -> RunServices:
    """Start the mock and the vendor the profile asks for; the effective profile goes to the results folder.

    ``failover.method: container`` is checked first (nothing starts for a missing or foreign container), unless
    ``launch.kind: container`` starts the container itself (through ``docker_factory`` too);
    ``failover.method: proxy`` puts a chaos proxy in front of the vendor and the effective base_url points at it.
    ``mock_settings`` are merged into the run's mock config (e.g. a small ledger ``memory_rows`` for soaks);
    ``seed`` (the run's ``--seed``) becomes the mock's ``seed`` and ``webhooks.seed``; ``proxy`` puts the chaos
    proxy in front of the vendor for a fault schedule's ``proxy-*`` faults (seeded with ``seed``).
    """
    launched = profile.launch.kind == "container"
    containers = {} if launched else failover_containers(profile, source=source, docker_factory=docker_factory)
    stack = ExitStack()
    try:
        mock_config = run_mock_config(seed, mock_settings)
        services = _start(profile, run_dir, stack, owner_confirmed, mock_config, docker_factory, proxy, seed)
        if not launched:
            services.containers = containers
        return services
    except BaseException:
        stack.close()
        raise


def _start(
    profile: VendorProfile,
    run_dir: Path,
    stack: ExitStack,
    owner_confirmed: bool,
    mock_config: dict[str, Any],
    docker_factory: DockerFactory | None = None,
    proxy: bool = False,
    seed: int | None = None,
) -> RunServices:
    launch = profile.launch
    processes: dict[str, ServiceProcess] = {}
    containers: dict[str, str] = {}
    handle: Any = None
    mock: ServiceProcess | None = None
    if launch.kind == "none":
        check_target(profile.base_url, profile.allowed_targets, owner_confirmed=owner_confirmed)
        mock_url = profile.capabilities.mock_url or ""
        effective = profile
    elif launch.kind in ("reference", "ha-pair"):
        mock_url, mock, handle = _start_reference(profile, run_dir, stack, mock_config, processes)
        effective = _pointed_at(profile, handle.base_url, mock_url)
    elif launch.kind == "container":
        mock_url, mock, handle = _start_container(profile, run_dir, stack, mock_config, docker_factory)
        processes["mock"] = mock
        containers[PRIMARY] = handle.name
        effective = _pointed_at(profile, handle.base_url, mock_url)
        if effective.failover is not None and effective.failover.method == "container":
            # The effective profile names the container the run started, as a profile for a running one would.
            failover = effective.failover.model_copy(update={"target": handle.name})
            effective = effective.model_copy(update={"failover": failover})
    elif launch.kind in ("facade", "mock"):
        mock_url, mock = _start_mock(run_dir, stack, free_port(), mock_config)
        processes["mock"] = mock
        base_url = mock_url
        if launch.kind == "facade":
            # The facade is the vendor here: process faults (kill, pause) aim at it as at a reference primary.
            facade, base_url = start_facade(profile, mock_url, stack, log_path=run_dir / "logs" / "facade.log")
            processes["primary"] = facade
        effective = _pointed_at(profile, base_url, mock_url)
    else:  # pragma: no cover - LaunchConfig.kind is a Literal of the kinds above
        raise HarnessError(
            f"launch kind {launch.kind!r} is unknown; use none, reference, ha-pair, container, facade or mock"
        )
    # After the vendor is up: the proxy relays to its real address, the load (via the file below) goes to the proxy.
    effective, proxies = failover_proxy(effective, stack)
    if proxy and not proxies:  # a fault schedule's proxy-* faults need the load to go through the proxy
        endpoint = stack.enter_context(
            proxy_in_front(
                effective.base_url, name=PRIMARY, seed=seed, allowed_upstreams=tuple(profile.allowed_targets)
            )
        )
        effective, proxies = effective.model_copy(update={"base_url": endpoint.base_url}), {PRIMARY: endpoint.target}
    path = run_dir / "vendor-profile.yaml"
    path.write_text(yaml.safe_dump(effective.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    return RunServices(effective, path, mock_url, mock, handle, processes, stack, proxies, containers)


def _pointed_at(profile: VendorProfile, base_url: str, mock_url: str) -> VendorProfile:
    """The effective profile: the started vendor's real base URL, and the run's mock as its mock."""
    capabilities = profile.capabilities.model_copy(update={"can_point_at_mock": True, "mock_url": mock_url})
    return profile.model_copy(update={"base_url": base_url, "capabilities": capabilities})


def _start_reference(
    profile: VendorProfile,
    run_dir: Path,
    stack: ExitStack,
    mock_config: dict[str, Any],
    processes: dict[str, ServiceProcess],
) -> tuple[str, ServiceProcess, Any]:
    """The mock and a reference vendor (or HA pair), side by side; the vendor's webhooks subscribed at the mock."""
    from mocks.vendors.launch import launch as launch_vendor

    launch = profile.launch
    # The vendor needs only the mock's URL to start, so both start side by side (a second saved per run).
    mock_port = free_port()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="scrmbench-start") as pool:
        mock_started = pool.submit(_start_mock, run_dir, stack, mock_port, mock_config)
        vendor_started = pool.submit(
            launch_vendor,
            launch.profile or "steady",
            whatsapp_url=f"http://127.0.0.1:{mock_port}",
            db_path=run_dir / "vendor.db",
            port=launch.port,
            log_dir=run_dir / "logs",
        )
        try:
            handle: Any = vendor_started.result()
        finally:
            # Registered even when the mock failed, so the vendor is stopped with the rest.
            if vendor_started.exception() is None:
                stack.callback(vendor_started.result().stop)
        mock_url, mock = mock_started.result()
    processes["mock"] = mock
    for role in ("primary", "standby", "front"):
        member = getattr(handle, role, None)
        if member is not None and getattr(member, "service", None) is not None:
            processes[role] = member.service
    if getattr(handle, "service", None) is not None:
        processes["primary"] = handle.service
    _subscribe(mock_url, handle.base_url)
    return mock_url, mock, handle


def _start_container(
    profile: VendorProfile,
    run_dir: Path,
    stack: ExitStack,
    mock_config: dict[str, Any],
    docker_factory: DockerFactory | None,
) -> tuple[str, ServiceProcess, Any]:
    """The mock, then the reference vendor in its container (removed with ``stack``); webhooks subscribed."""
    mock_url, mock = _start_mock(run_dir, stack, free_port(), mock_config)
    target = profile.failover.target if profile.failover is not None else None
    vendor = start_vendor_container(
        profile.launch.profile or "steady",
        whatsapp_url=mock_url,
        run_dir=run_dir,
        stack=stack,
        name=target or container_name(profile.name),
        port=profile.launch.port,
        client_factory=docker_factory or docker_client,
    )
    _subscribe(mock_url, vendor.base_url)
    return mock_url, mock, vendor
