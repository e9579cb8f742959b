"""Start what a vendor profile says to start, on loopback, for one run; stop it all afterwards.

The profile's ``launch.kind`` picks the launcher (``harness.stack.launchers``: ``reference`` / ``ha-pair`` start
the mock WhatsApp API and a reference vendor pointed at it and subscribe the vendor's webhook receiver at the mock;
``container`` the mock and the reference vendor in a container scrmbench builds and owns, the run's ``primary``
container; ``facade`` the mock and a BSP-shaped facade in front of it; ``mock`` the mock alone, which is then the
target; ``none`` nothing, the profile as written). The *effective* profile (the real base URL and mock URL) goes
into the results folder in its public form (``vendor-profile.yaml``, ``VendorProfile.public_dict()``: env-var
names only, no ``dev_default``); the Locust processes read it whole from a private copy outside the results folder
(``RunServices.profile_path``, removed when the run's services stop). Every URL is checked with
``ground.net.check_target`` before any request.

The run's seed reaches the mock twice: its top-level ``seed`` (BSUIDs, not-on-WhatsApp picks, faults) and the
webhook engine's ``webhooks.seed`` (ladders, duplicates, reordering, simulated customers), so a run is
reproducible from ``--seed``. Explicit ``mock_settings`` still win.

``proxy=True`` (a ``--faults`` schedule with ``proxy-*`` faults) puts the in-process chaos proxy in front of the
vendor as ``failover.method: proxy`` does, named ``primary`` among the run's proxy targets, so toxics act on
the load; with ``failover.method: proxy`` that one proxy serves both.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ground.errors import ConfigError
from ground.services import ServiceProcess
from harness.config.profiles import VendorProfile
from harness.faults.base import FaultTargets, UpstreamTarget
from harness.faults.proxy.control import ProxyTarget
from harness.faults.proxy.endpoint import proxy_in_front
from harness.stack.failover import PRIMARY, DockerFactory, failover_containers, failover_proxy
from harness.stack.launchers import LaunchContext, PlannedTarget, launcher_for
from harness.stack.mock import MAX_MOCK_SHARDS, check_mock_shards, mock_admin_token, mock_numbers

log = logging.getLogger(__name__)

PUBLIC_PROFILE_FILE = "vendor-profile.yaml"  # in the run folder: the effective profile's public form


@dataclass
class RunServices:
    profile: VendorProfile
    profile_path: Path  # the effective profile whole, for this machine's Locust processes; never in the results
    mock_url: str = ""
    mock: ServiceProcess | None = None
    vendor_handle: Any = None
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    stack: ExitStack = field(default_factory=ExitStack)
    proxies: dict[str, ProxyTarget] = field(default_factory=dict)  # failover.method proxy: the one in front
    containers: dict[str, str] = field(default_factory=dict)  # failover.method container: its checked target
    load_routes: dict[str, str] = field(default_factory=dict)  # a sharded mock as the target: number id → shard
    customer_numbers: tuple[str, ...] = ()  # a sharded mock behind a reference vendor: where customers write
    # The mock's admin token, read once by the launch context: every call of the run to the mock carries it.
    admin_token: str = field(default_factory=mock_admin_token, repr=False)

    def fault_targets(self) -> FaultTargets:
        upstream = {"mock": UpstreamTarget(self.mock_url, self.admin_token)} if self.mock_url else {}
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


def check_shards_for(profile: VendorProfile, shards: object, *, source: str = "--mock-shards") -> int:
    """``--mock-shards`` checked against the profile before anything starts: 1 to ``MAX_MOCK_SHARDS``, a mock the
    run starts itself, and (for a mock that is the target) a load that names the phone number in its paths."""
    count = check_mock_shards(shards, source=source)
    if count == 1:
        return count
    launcher = launcher_for(profile)
    if not launcher.starts_anything:
        raise ConfigError(
            "only a mock the run starts can be sharded",
            source=source,
            field="launch.kind",
            value=profile.launch.kind,
            fix="drop --mock-shards, or use a profile whose launch.kind starts the mock (reference, mock, ...)",
        )
    dialect = profile.options.get("dialect", "meta")
    if profile.launch.kind == "mock" and (profile.adapter != "cloud-api" or dialect != "meta"):
        raise ConfigError(
            "a sharded mock as the target needs Meta's paths (/{version}/{phone_number_id}/...) to route by number",
            source=source,
            field="adapter",
            value=f"{profile.adapter} ({dialect})",
            fix="use the cloud-api adapter with options.dialect meta (vendors/cloud-api-mock.yaml), or one shard",
        )
    return count


def planned_targets(profile: VendorProfile, *, proxy: bool = False) -> FaultTargets:
    """The fault target names a run of ``profile`` will have, before anything starts (the launcher's answer)."""
    return launcher_for(profile).planned_targets(profile, proxy=proxy)


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


def run_mock_config(
    seed: int | None, mock_settings: dict[str, Any] | None = None, profile: VendorProfile | None = None
) -> dict[str, Any]:
    """The run's mock config: relaxed limits, the profile's numbers (``mock_numbers``), the run's seed in both of
    the mock's seeds, then ``mock_settings`` (which win)."""
    seeded: dict[str, Any] = {} if seed is None else {"seed": seed, "webhooks": {"seed": seed}}
    return _merged(_merged(_merged(RUN_MOCK_CONFIG, mock_numbers(profile)), seeded), mock_settings or {})


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
    mock_shards: int = 1,
) -> RunServices:
    """Start the mock and the vendor the profile asks for; the effective profile goes to the results folder.

    ``failover.method: container`` is checked first (nothing starts for a missing or foreign container), unless
    ``launch.kind: container`` starts the container itself (through ``docker_factory`` too);
    ``failover.method: proxy`` puts a chaos proxy in front of the vendor and the effective base_url points at it.
    ``mock_settings`` are merged into the run's mock config (e.g. a small ledger ``memory_rows`` for soaks);
    ``seed`` (the run's ``--seed``) becomes the mock's ``seed`` and ``webhooks.seed``; ``proxy`` puts the chaos
    proxy in front of the vendor for a fault schedule's ``proxy-*`` faults (seeded with ``seed``); ``mock_shards``
    > 1 runs the mock as that many processes sharded by phone number id (``harness.stack.mock``), and a mock that is
    itself the target is loaded shard by shard (``load_routes``), unless a proxy stands in front of it.
    """
    launched = launcher_for(profile).owns_container
    containers = {} if launched else failover_containers(profile, source=source, docker_factory=docker_factory)
    stack = ExitStack()
    try:
        mock_config = run_mock_config(seed, mock_settings, profile)
        services = _start(
            profile, run_dir, stack, owner_confirmed, mock_config, docker_factory, proxy, seed, mock_shards
        )
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
    mock_shards: int = 1,
) -> RunServices:
    context = LaunchContext(
        workdir=run_dir,
        stack=stack,
        mock_config=mock_config,
        log_dir=run_dir / "logs",
        owner_confirmed=owner_confirmed,
        docker_factory=docker_factory,
        mock_shards=mock_shards,
    )
    launched = launcher_for(profile).start(profile, context)
    # After the vendor is up: the proxy relays to its real address, the load (via the file below) goes to the proxy.
    effective, proxies = failover_proxy(launched.profile, stack)
    if proxy and not proxies:  # a fault schedule's proxy-* faults need the load to go through the proxy
        endpoint = stack.enter_context(
            proxy_in_front(
                effective.base_url, name=PRIMARY, seed=seed, allowed_upstreams=tuple(profile.allowed_targets)
            )
        )
        effective, proxies = effective.model_copy(update={"base_url": endpoint.base_url}), {PRIMARY: endpoint.target}
    write_public_profile(effective, run_dir)
    return RunServices(
        effective,
        _private_profile(effective, stack),
        launched.mock_url,
        launched.mock,
        launched.handle,
        launched.processes,
        stack,
        proxies,
        launched.containers,
        {} if proxies else launched.load_routes,  # through a proxy, the base port forwards to the owner shard
        launched.customer_numbers,
        context.admin_token,
    )


def write_public_profile(profile: VendorProfile, run_dir: Path) -> Path:
    """``<run>/vendor-profile.yaml``: the profile's public form (``public_dict()``), what the results may hold."""
    path = run_dir / PUBLIC_PROFILE_FILE
    path.write_text(yaml.safe_dump(profile.public_dict(), sort_keys=False), encoding="utf-8")
    return path


def _private_profile(profile: VendorProfile, stack: ExitStack) -> Path:
    """The effective profile whole (its loopback-only ``dev_default`` included), which the run's Locust processes
    re-read (``RunSpec.profile_file``): in a folder only this user can read, removed when ``stack`` closes."""
    folder = Path(tempfile.mkdtemp(prefix="scrmbench-profile-"))  # mode 0700
    stack.callback(shutil.rmtree, folder, ignore_errors=True)
    path = folder / PUBLIC_PROFILE_FILE
    path.write_text(yaml.safe_dump(profile.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    return path


__all__ = [
    "MAX_MOCK_SHARDS",
    "PUBLIC_PROFILE_FILE",
    "RUN_MOCK_CONFIG",
    "PlannedTarget",
    "RunServices",
    "check_shards_for",
    "mock_admin_token",
    "planned_targets",
    "run_mock_config",
    "start_services",
    "write_public_profile",
]
