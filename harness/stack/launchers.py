"""One launcher per ``launch.kind``: what a run (or ``vendors check --launch``) starts on loopback for a profile.

    none        nothing; the profile's ``base_url`` is checked against its allowlist and used as written
    reference   the mock and a reference vendor (``mocks.vendors.launch``) pointed at it, started side by side
    ha-pair     the same with an HA pair: primary, standby and the front that fails over between them
    container   the mock, then the reference vendor in a container the harness owns (``harness.stack.container``)
    facade      the mock and a BSP-shaped facade in front of it (``mocks.facades``)
    mock        the mock alone, which is then the target itself

Each launcher is registered in ``LAUNCHERS`` (a ``ground.registry.Registry``) and answers two questions:
``start(profile, context)`` starts it and returns what was started with the *effective* profile (the real base
URL, the run's mock as its mock); ``planned_targets(profile, proxy=)`` names the fault targets a run of it will
have, before anything starts, so a fault schedule is checked first. ``launch.kind`` is looked up here and
nowhere else; the rest of the harness reads the launcher's flags.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ground.errors import ConfigError, HarnessError
from ground.net import check_target, free_port, free_port_run
from ground.registry import Registry
from ground.services import ServiceProcess
from harness.config.profiles import PhoneNumber, VendorProfile
from harness.faults.base import FaultTargets
from harness.faults.container import docker_client
from harness.stack.container import container_name, start_vendor_container
from harness.stack.failover import PRIMARY, DockerFactory
from harness.stack.mock import (
    facade_numbers,
    mock_admin_token,
    shard_routes,
    sharded_mock_config,
    start_mock,
    subscribe,
)


@dataclass
class LaunchContext:
    """Where and how to start; the same launchers serve a run (``harness.stack.services``) and a contract check
    (``harness.stack.local``), which differ only in these fields."""

    workdir: Path  # the mock's config file, the reference vendor's database, a container's run folder
    stack: ExitStack  # everything started is stopped (or removed) by it
    mock_config: dict[str, Any]
    mock_config_name: str = "mock-config.yaml"
    log_dir: Path | None = None  # None: workdir / "logs"
    owner_confirmed: bool = False  # --i-own-this-target, for launch.kind none
    docker_factory: DockerFactory | None = None  # the Docker client for launch.kind container (tests fake it)
    seed_conversations: int = 0  # > 0: seed the reference vendor's database first (a check's assign_conversation)
    subscribe: bool = True  # subscribe a started reference vendor's webhook receiver at the mock
    mock_shards: int = 1  # --mock-shards: the mock's processes, sharded by phone number id (harness.stack.mock)
    mock_routes: dict[str, str] = field(default_factory=dict)  # set by mock_port(): phone number id → its shard
    # Read once: the mock started here serves with it and every call of the run to that mock carries it.
    admin_token: str = field(default_factory=mock_admin_token, repr=False)

    @property
    def logs(self) -> Path:
        return self.log_dir if self.log_dir is not None else self.workdir / "logs"

    def mock_port(self) -> int:
        """The mock's (base) port, free with the shards' ports after it; the shard routes are known from here on."""
        port = free_port() if self.mock_shards <= 1 else free_port_run(self.mock_shards)
        config = sharded_mock_config(self.mock_config, self.mock_shards)
        self.mock_routes = shard_routes(config, self.mock_shards, port)
        return port

    def start_mock(self, port: int | None = None) -> tuple[str, ServiceProcess]:
        return start_mock(
            self.stack,
            self.mock_port() if port is None else port,
            self.mock_config,
            config_path=self.workdir / self.mock_config_name,
            log_path=self.logs / "mock.log",
            shards=self.mock_shards,
            admin_token=self.admin_token,
        )


@dataclass
class Launched:
    """What a launcher started: the effective profile and the processes and containers faults may aim at."""

    profile: VendorProfile
    mock_url: str = ""
    mock: ServiceProcess | None = None
    handle: Any = None  # the reference vendor's handle (VendorHandle, HAPairHandle, VendorContainer)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    containers: dict[str, str] = field(default_factory=dict)
    # A sharded mock that is itself the load's target: phone number id → the shard URL the load sends it to.
    load_routes: dict[str, str] = field(default_factory=dict)
    # A sharded mock behind a reference vendor: the numbers the simulated customers write to, by their own hash
    # (mocks.whatsapp.shards.sender_for), the same the vendor answers from.
    customer_numbers: tuple[str, ...] = ()


class Launcher(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def starts_anything(self) -> bool:
        """False for ``none``: ``vendors check --launch`` refuses it."""

    @property
    def owns_container(self) -> bool:
        """Starts the run's ``primary`` container itself (so there is no failover container to check first)."""

    @property
    def loopback_reference(self) -> bool:
        """Starts a reference vendor (or HA pair) as processes on loopback, pointed at the run's mock: the
        profile's written ``base_url`` is replaced, not checked, and customer messages reach the vendor through
        the mock."""

    def start(self, profile: VendorProfile, context: LaunchContext) -> Launched: ...

    def planned_targets(self, profile: VendorProfile, *, proxy: bool = False) -> FaultTargets: ...


LAUNCHERS: Registry[Launcher] = Registry(
    "launch kind",
    field="launch.kind",
    fix="set launch.kind to one of: {names}",
)


@dataclass(frozen=True)
class PlannedTarget:
    """Stands for a target that does not exist yet: faults are built against it only to check names and params."""

    name: str

    @property
    def proxy(self) -> str:  # what a proxy fault reads from its target when built
        return self.name


class _Launcher:
    kind: str = ""
    processes: tuple[str, ...] = ()  # the process targets a run of this kind has
    starts_anything: bool = True
    owns_container: bool = False
    loopback_reference: bool = False

    def start(self, profile: VendorProfile, context: LaunchContext) -> Launched:
        raise NotImplementedError

    def planned_targets(self, profile: VendorProfile, *, proxy: bool = False) -> FaultTargets:
        """The fault target names a run of ``profile`` will have, before anything starts (values are placeholders).

        The mock (a process and the upstream target) unless nothing is started and the profile names no mock;
        ``primary`` (and an HA pair's ``standby`` and ``front``) for what is launched; the ``primary`` container
        for a launched container or ``failover.method: container``; the ``primary`` proxy for
        ``failover.method: proxy`` or a schedule's ``proxy-*`` faults. A name listed here that the run then does
        not have is still refused by the fault runner once the services are up.
        """
        method = profile.failover.method if profile.failover else None
        planned: dict[str, Any] = {name: PlannedTarget(name) for name in ("mock", PRIMARY, "standby", "front")}
        has_mock = self.starts_anything or bool(profile.capabilities.mock_url)
        return FaultTargets(
            processes={name: planned[name] for name in self.processes},
            containers={PRIMARY: PRIMARY} if self.owns_container or method == "container" else {},
            proxies={PRIMARY: planned[PRIMARY]} if proxy or method == "proxy" else {},
            upstream={"mock": planned["mock"]} if has_mock else {},
        )


def pointed_at(profile: VendorProfile, base_url: str, mock_url: str) -> VendorProfile:
    """The effective profile: the started vendor's real base URL, and the run's mock as its mock."""
    capabilities = profile.capabilities.model_copy(update={"can_point_at_mock": True, "mock_url": mock_url})
    return profile.model_copy(update={"base_url": base_url, "capabilities": capabilities})


def seed_vendor(db_path: Path, conversations: int) -> None:
    """A few conversations in the reference vendor's database, so ``assign_conversation`` has one to assign."""
    # The vendor commands' own entry point starts faster than the full CLI (no analysis imports).
    args = [sys.executable, "-m", "harness.commands.vendor", "vendor", "seed", "--conversations", str(conversations)]
    done = subprocess.run([*args, "--db", str(db_path)], capture_output=True, timeout=120, check=False)
    if done.returncode != 0:
        raise HarnessError(f"seeding the reference vendor failed: {done.stderr.decode(errors='replace')[-300:]}")


class NoLaunch(_Launcher):
    kind = "none"
    starts_anything = False

    def start(self, profile: VendorProfile, context: LaunchContext) -> Launched:
        check_target(profile.base_url, profile.allowed_targets, owner_confirmed=context.owner_confirmed)
        mock_url = profile.capabilities.mock_url or ""
        if mock_url:  # the run's own calls carry the mock's admin token there
            check_target(
                mock_url,
                profile.allowed_targets,
                owner_confirmed=context.owner_confirmed,
                field="capabilities.mock_url",
            )
        return Launched(profile, mock_url)


class ReferenceLauncher(_Launcher):
    kind = "reference"
    processes: tuple[str, ...] = ("mock", PRIMARY)
    loopback_reference = True

    def start(self, profile: VendorProfile, context: LaunchContext) -> Launched:
        from mocks.vendors.launch import launch as launch_vendor

        db_path = context.workdir / "vendor.db"
        if context.seed_conversations:
            seed_vendor(db_path, context.seed_conversations)
        # The vendor needs only the mock's URL to start, so both start side by side (a second saved per run).
        mock_port = context.mock_port()
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="scrmbench-start") as pool:
            mock_started = pool.submit(context.start_mock, mock_port)
            vendor_started = pool.submit(
                launch_vendor,
                profile.launch.profile or "steady",
                whatsapp_url=f"http://127.0.0.1:{mock_port}",
                db_path=db_path,
                port=profile.launch.port,
                log_dir=context.logs,
                # A sharded mock: the vendor spreads its sends over the mock's numbers, each to its own shard.
                overrides={"shard_routes": context.mock_routes} if context.mock_routes else None,
            )
            try:
                handle: Any = vendor_started.result()
            finally:
                # Registered even when the mock failed, so the vendor is stopped with the rest.
                if vendor_started.exception() is None:
                    context.stack.callback(vendor_started.result().stop)
            mock_url, mock = mock_started.result()
        processes = {"mock": mock}
        for role in (PRIMARY, "standby", "front"):
            member = getattr(handle, role, None)
            if member is not None and getattr(member, "service", None) is not None:
                processes[role] = member.service
        if getattr(handle, "service", None) is not None:
            processes[PRIMARY] = handle.service
        if context.subscribe:
            subscribe(mock_url, handle.base_url, context.admin_token)
        return Launched(
            pointed_at(profile, handle.base_url, mock_url),
            mock_url,
            mock,
            handle,
            processes,
            customer_numbers=tuple(sorted(context.mock_routes)),
        )


class HAPairLauncher(ReferenceLauncher):
    kind = "ha-pair"
    processes = ("mock", PRIMARY, "standby", "front")


class ContainerLauncher(_Launcher):
    """The mock, then the reference vendor in its container (removed with the stack); webhooks subscribed."""

    kind = "container"
    processes = ("mock",)
    owns_container = True

    def start(self, profile: VendorProfile, context: LaunchContext) -> Launched:
        if context.seed_conversations:
            seed_vendor(context.workdir / "vendor.db", context.seed_conversations)
        mock_url, mock = context.start_mock()
        target = profile.failover.target if profile.failover is not None else None
        vendor = start_vendor_container(
            profile.launch.profile or "steady",
            whatsapp_url=mock_url,
            run_dir=context.workdir,
            stack=context.stack,
            name=target or container_name(profile.name),
            port=profile.launch.port,
            client_factory=context.docker_factory or docker_client,
        )
        if context.subscribe:
            subscribe(mock_url, vendor.base_url, context.admin_token)
        effective = pointed_at(profile, vendor.base_url, mock_url)
        if effective.failover is not None and effective.failover.method == "container":
            # The effective profile names the container the run started, as a profile for a running one would.
            failover = effective.failover.model_copy(update={"target": vendor.name})
            effective = effective.model_copy(update={"failover": failover})
        return Launched(effective, mock_url, mock, vendor, {"mock": mock}, {PRIMARY: vendor.name})


def start_facade(
    profile: VendorProfile, mock_url: str, stack: ExitStack, *, log_path: Path
) -> tuple[ServiceProcess, str]:
    """Start the profile's facade (``launch.dialect``) in front of the mock at ``mock_url``; stopped by ``stack``.

    On ``launch.port`` if set, else a free port. Returns the running service and its base URL.
    """
    from mocks.facades.launch import facade_process

    dialect = profile.launch.dialect
    if dialect is None:
        raise ConfigError(
            "a facade needs its dialect",
            field="launch.dialect",
            value=dialect,
            fix="set launch.dialect to twilio, wati or 360dialog",
        )
    reports = profile.launch.reports
    service, base_url = facade_process(
        dialect,
        mock_url,
        port=profile.launch.port,
        log_path=log_path,
        extra_args=reports.as_args() if reports else None,
        numbers=facade_numbers(profile),
    )
    stack.callback(service.stop)
    service.start()
    return service, base_url


class FacadeLauncher(_Launcher):
    kind = "facade"
    processes = ("mock", PRIMARY)

    def start(self, profile: VendorProfile, context: LaunchContext) -> Launched:
        mock_url, mock = context.start_mock()
        # The facade is the vendor here: process faults (kill, pause) aim at it as at a reference primary.
        facade, base_url = start_facade(profile, mock_url, context.stack, log_path=context.logs / "facade.log")
        return Launched(pointed_at(profile, base_url, mock_url), mock_url, mock, None, {"mock": mock, PRIMARY: facade})


class MockLauncher(_Launcher):
    kind = "mock"
    processes = ("mock",)

    def start(self, profile: VendorProfile, context: LaunchContext) -> Launched:
        mock_url, mock = context.start_mock()
        effective = pointed_at(profile, mock_url, mock_url)
        if context.mock_routes:
            effective = spread_over_shards(effective, context.mock_routes)
        return Launched(effective, mock_url, mock, None, {"mock": mock}, load_routes=dict(context.mock_routes))


def spread_over_shards(profile: VendorProfile, routes: dict[str, str]) -> VendorProfile:
    """The mock-target profile of a sharded run: every number of the mock, each send from the number its
    recipient hashes to (the cloud-api adapter's ``numbers: by_recipient``), so the load reaches every shard."""
    numbers = [PhoneNumber(number=f"+{15550000001 + k}", id=number_id) for k, number_id in enumerate(routes)]
    options = {**profile.options, "numbers": "by_recipient"}
    return profile.model_copy(update={"phone_numbers": numbers, "options": options})


for _launcher in (
    NoLaunch(),
    ReferenceLauncher(),
    HAPairLauncher(),
    ContainerLauncher(),
    FacadeLauncher(),
    MockLauncher(),
):
    LAUNCHERS.add(_launcher.kind, _launcher)


def launcher_for(profile: VendorProfile) -> Launcher:
    """The launcher of the profile's ``launch.kind`` (the one place the kind is switched on)."""
    return LAUNCHERS.get(profile.launch.kind)
