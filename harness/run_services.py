"""Start what a vendor profile says to start, on loopback, for one run; stop it all afterwards.

``launch.kind`` in the profile decides: ``reference`` / ``ha-pair`` start the mock WhatsApp API and a reference
vendor (``mocks.vendors.launch``) pointed at it, subscribe the vendor's webhook receiver at the mock, and write
an *effective* profile (the real base URL and mock URL) into the results folder; ``none`` starts nothing and
uses the profile as written. Every URL is checked with ``harness.net.check_target`` before any request.
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

from harness.config.profiles import VendorProfile
from harness.errors import HarnessError
from harness.faults.base import FaultTargets, ProxyTarget, UpstreamTarget
from harness.net import check_target, free_port
from harness.run_failover import DockerFactory, failover_containers, failover_proxy
from harness.services import ServiceProcess

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


def _start_mock(
    run_dir: Path, stack: ExitStack, port: int, mock_settings: dict[str, Any] | None = None
) -> tuple[str, ServiceProcess]:
    base = f"http://127.0.0.1:{port}"
    config = run_dir / "mock-config.yaml"
    config.write_text(yaml.safe_dump(_merged(RUN_MOCK_CONFIG, mock_settings or {})), encoding="utf-8")
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
) -> RunServices:
    """Start the mock and the vendor the profile asks for; the effective profile goes to the results folder.

    ``failover.method: container`` is checked first (nothing starts for a missing or foreign container);
    ``failover.method: proxy`` puts a chaos proxy in front of the vendor and the effective base_url points at it.
    ``mock_settings`` are merged into the run's mock config (e.g. a small ledger ``memory_rows`` for soaks).
    """
    containers = failover_containers(profile, source=source, docker_factory=docker_factory)
    stack = ExitStack()
    try:
        services = _start(profile, run_dir, stack, owner_confirmed, mock_settings)
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
    mock_settings: dict[str, Any] | None = None,
) -> RunServices:
    launch = profile.launch
    processes: dict[str, ServiceProcess] = {}
    handle: Any = None
    mock: ServiceProcess | None = None
    if launch.kind == "none":
        check_target(profile.base_url, profile.allowed_targets, owner_confirmed=owner_confirmed)
        mock_url = profile.capabilities.mock_url or ""
        effective = profile
    elif launch.kind in ("reference", "ha-pair"):
        from mocks.vendors.launch import launch as launch_vendor

        # The vendor needs only the mock's URL to start, so both start side by side (a second saved per run).
        mock_port = free_port()
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="scrmbench-start") as pool:
            mock_started = pool.submit(_start_mock, run_dir, stack, mock_port, mock_settings)
            vendor_started = pool.submit(
                launch_vendor,
                launch.profile or "steady",
                whatsapp_url=f"http://127.0.0.1:{mock_port}",
                db_path=run_dir / "vendor.db",
                port=launch.port,
                log_dir=run_dir / "logs",
            )
            try:
                handle = vendor_started.result()
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
        capabilities = profile.capabilities.model_copy(update={"can_point_at_mock": True, "mock_url": mock_url})
        effective = profile.model_copy(update={"base_url": handle.base_url, "capabilities": capabilities})
    else:
        raise HarnessError(
            f"launch kind {launch.kind!r} is not started by the runner yet; start the facade yourself and set "
            "launch.kind: none with its base_url"
        )
    # After the vendor is up: the proxy relays to its real address, the load (via the file below) goes to the proxy.
    effective, proxies = failover_proxy(effective, stack)
    path = run_dir / "vendor-profile.yaml"
    path.write_text(yaml.safe_dump(effective.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    return RunServices(effective, path, mock_url, mock, handle, processes, stack, proxies)
