"""Start on loopback what a profile's ``launch`` section names, for ``vendors check --launch`` and tests
(``start_facade`` also serves the runner, ``harness.stack.services``).

The mock always comes first (free port, limiters relaxed: a contract check is about the dialect, not about
Meta's 24-hour window or pair rate); then the reference vendor (seeded with a few conversations so
``assign_conversation`` has something to assign), an HA pair, the reference vendor in a container
(``harness.stack.container``), or a facade, pointed at the mock. The result is
the *effective* profile, whose ``base_url`` and ``mock_url`` point at what was started.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import yaml

from ground.errors import ConfigError, HarnessError
from ground.net import free_port
from ground.services import ServiceProcess
from harness.config.profiles import VendorProfile

MOCK_OVERRIDES = {"limits": {"enforce_customer_window": False, "pair_burst": 1000}}


def start_mock(workdir: Path, stack: ExitStack) -> str:
    port = free_port()
    config = workdir / "mock.yaml"
    config.write_text(yaml.safe_dump({"port": port, **MOCK_OVERRIDES}), encoding="utf-8")
    base_url = f"http://127.0.0.1:{port}"
    service = ServiceProcess.python_module(
        "mock",
        ["mock", "serve", "--config", str(config)],
        health_url=f"{base_url}/_mock/health",
        log_path=workdir / "mock.log",
    )
    stack.callback(service.stop)
    service.start()
    return base_url


def _seed(db_path: Path, conversations: int = 3) -> None:
    # The vendor commands' own entry point starts faster than the full CLI (no analysis imports).
    args = [sys.executable, "-m", "harness.commands.vendor", "vendor", "seed", "--conversations", str(conversations)]
    done = subprocess.run([*args, "--db", str(db_path)], capture_output=True, timeout=120, check=False)
    if done.returncode != 0:
        raise HarnessError(f"seeding the reference vendor failed: {done.stderr.decode(errors='replace')[-300:]}")


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
    service, base_url = facade_process(dialect, mock_url, port=profile.launch.port, log_path=log_path)
    stack.callback(service.stop)
    service.start()
    return service, base_url


def _start_target(profile: VendorProfile, workdir: Path, mock_url: str, stack: ExitStack) -> str:
    launch = profile.launch
    if launch.kind == "mock":
        return mock_url
    if launch.kind in ("reference", "ha-pair"):
        from mocks.vendors.launch import launch as launch_vendor

        db_path = workdir / "vendor.db"
        _seed(db_path)
        handle = launch_vendor(launch.profile or "steady", whatsapp_url=mock_url, db_path=db_path, log_dir=workdir)
        stack.callback(handle.stop)
        return str(handle.base_url)
    if launch.kind == "facade":
        return start_facade(profile, mock_url, stack, log_path=workdir / "facade.log")[1]
    if launch.kind == "container":  # the reference vendor in a scrmbench container (needs a Docker engine)
        from harness.stack.container import container_name, start_vendor_container

        _seed(workdir / "vendor.db")
        name = container_name(profile.name)
        vendor = start_vendor_container(
            launch.profile or "steady", whatsapp_url=mock_url, run_dir=workdir, stack=stack, name=name
        )
        return vendor.base_url
    raise ConfigError(
        "the profile does not say what to start",
        field="launch.kind",
        value=launch.kind,
        fix="set launch.kind to reference, ha-pair, container, facade or mock, or start the vendor yourself and "
        "drop --launch",
    )


@contextmanager
def local_stack(profile: VendorProfile, workdir: Path) -> Iterator[VendorProfile]:
    """Start the mock and the profile's local vendor; yield the effective profile; stop everything after."""
    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        mock_url = start_mock(workdir, stack)
        base_url = _start_target(profile, workdir, mock_url, stack)
        capabilities = profile.capabilities.model_copy(update={"can_point_at_mock": True, "mock_url": mock_url})
        yield profile.model_copy(update={"base_url": base_url, "capabilities": capabilities})
