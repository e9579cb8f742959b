"""Start any reference vendor profile with one call, as real processes on free loopback ports.

    with launch("degrading", whatsapp_url=mock.base_url, db_path=tmp / "v.db") as vendor:
        httpx.post(f"{vendor.base_url}/api/messages", ...)

HA profiles (`fast-failover`, `slow-failover`) start three processes (primary, standby, front) sharing one
database; the handle's ``base_url`` is the front, and ``.primary`` / ``.standby`` are there to be killed.
The harness, ``scrmbench demo`` and the tests all use this module, built on ``ground.services.ServiceProcess``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from ground.net import free_port
from ground.services import ServiceProcess
from mocks.vendors.profiles import DEFAULT_TIME_SCALE, is_ha_profile


def flatten_overrides(overrides: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """``{"retry": {"enabled": False}}`` → ``"retry.enabled=false"`` (the form ``--set`` takes)."""
    for key, value in overrides.items():
        if isinstance(value, Mapping) and key not in {"auto_replies"}:
            yield from flatten_overrides(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}={json.dumps(value)}"


@dataclass
class VendorHandle:
    """One running process: a reference instance or a front."""

    name: str
    profile: str
    base_url: str
    service: ServiceProcess
    db_path: Path | None = None

    @property
    def pid(self) -> int:
        return self.service.pid

    def alive(self) -> bool:
        return self.service.alive()

    def kill(self) -> None:
        """SIGKILL, no goodbye: the crash a failover test needs (the queue in memory dies with it)."""
        if self.service.alive():
            os.killpg(self.service.pid, signal.SIGKILL)
            assert self.service.process is not None
            self.service.process.wait(timeout=10)

    def stop(self) -> None:
        self.service.stop()

    def __enter__(self) -> VendorHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@dataclass
class HAPairHandle:
    profile: str
    primary: VendorHandle
    standby: VendorHandle
    front: VendorHandle
    db_path: Path
    handles: list[VendorHandle] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.front.base_url

    @property
    def pid(self) -> int:
        return self.front.pid

    def stop(self) -> None:
        for handle in (self.front, self.standby, self.primary):
            handle.stop()

    def __enter__(self) -> HAPairHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _service(
    name: str, args: list[str], port: int, log_dir: Path | None, env: Mapping[str, str] | None, start_timeout: float
) -> ServiceProcess:
    return ServiceProcess(
        name,
        [sys.executable, "-m", "harness.commands.vendor", *args],
        health_url=f"http://127.0.0.1:{port}/health",
        log_path=(log_dir / f"{name}.log") if log_dir else None,
        env=dict(env or {}),
        start_timeout=start_timeout,
    )


def launch_reference(
    profile: str = "steady",
    *,
    whatsapp_url: str,
    db_path: Path,
    port: int | None = None,
    role: str = "single",
    instance: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    time_scale: float = DEFAULT_TIME_SCALE,
    log_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    start_timeout: float = 30.0,
) -> VendorHandle:
    """One reference instance, started and healthy."""
    port = port or free_port()
    name = instance or f"vendor-{profile}-{port}"
    args = [
        "vendor", "serve", "reference", "--profile", profile, "--port", str(port), "--whatsapp-url", whatsapp_url,
        "--db", str(db_path), "--role", role, "--instance", name, "--time-scale", str(time_scale),
    ]  # fmt: skip
    for item in flatten_overrides(overrides or {}):
        args += ["--set", item]
    service = _service(name, args, port, log_dir, env, start_timeout).start()
    return VendorHandle(name, profile, f"http://127.0.0.1:{port}", service, Path(db_path))


def launch_front(
    profile: str,
    backends: list[str],
    *,
    port: int | None = None,
    front_overrides: Mapping[str, Any] | None = None,
    time_scale: float = DEFAULT_TIME_SCALE,
    log_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    start_timeout: float = 30.0,
) -> VendorHandle:
    port = port or free_port()
    args = ["vendor", "serve", "front", "--profile", profile, "--port", str(port), "--time-scale", str(time_scale)]
    for backend in backends:
        args += ["--backend", backend]
    for item in flatten_overrides(front_overrides or {}):
        args += ["--set", f"front.{item}"]
    service = _service(f"front-{profile}-{port}", args, port, log_dir, env, start_timeout).start()
    return VendorHandle(f"front-{port}", profile, f"http://127.0.0.1:{port}", service)


def launch_ha_pair(
    profile: str = "fast-failover",
    *,
    whatsapp_url: str,
    db_path: Path,
    port: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    front_overrides: Mapping[str, Any] | None = None,
    time_scale: float = DEFAULT_TIME_SCALE,
    log_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    start_timeout: float = 30.0,
) -> HAPairHandle:
    """Primary and standby sharing ``db_path``, behind the embedded front on ``port``."""
    common: dict[str, Any] = {
        "whatsapp_url": whatsapp_url, "db_path": db_path, "overrides": overrides, "time_scale": time_scale,
        "log_dir": log_dir, "env": env, "start_timeout": start_timeout,
    }  # fmt: skip
    started: list[VendorHandle] = []
    try:
        primary = launch_reference(profile, role="primary", instance="primary", **common)
        started.append(primary)
        standby = launch_reference(profile, role="standby", instance="standby", **common)
        started.append(standby)
        front = launch_front(
            profile,
            [primary.base_url, standby.base_url],
            port=port,
            front_overrides=front_overrides,
            time_scale=time_scale,
            log_dir=log_dir,
            env=env,
            start_timeout=start_timeout,
        )
    except BaseException:
        for handle in reversed(started):
            handle.stop()
        raise
    return HAPairHandle(profile, primary, standby, front, Path(db_path))


def launch(profile: str, **kwargs: Any) -> VendorHandle | HAPairHandle:
    """Any profile with one call: an HA pair for the failover profiles, one instance otherwise."""
    if is_ha_profile(profile):
        return launch_ha_pair(profile, **kwargs)
    kwargs.pop("front_overrides", None)
    return launch_reference(profile, **kwargs)
