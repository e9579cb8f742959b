"""Start a facade as a real process on loopback (for the runner, ``vendors check`` and tests)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from ground.net import free_port
from ground.services import ServiceProcess
from mocks.facades.common import Dialect


def facade_process(
    dialect: Dialect,
    whatsapp_url: str,
    *,
    port: int | None = None,
    log_path: Path | None = None,
    env: dict[str, str] | None = None,
    phone_number_id: str = "100000000000001",
    extra_args: list[str] | None = None,
    numbers: Mapping[str, str] | None = None,
) -> tuple[ServiceProcess, str]:
    """A not-yet-started ``ServiceProcess`` for the facade and its base URL; use it as a context manager.
    ``numbers``: the business numbers requests may name (digits -> the mock's phone-number id)."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    args = [
        sys.executable,
        "-m",
        "mocks.facades",
        "--dialect",
        dialect,
        "--port",
        str(port),
        "--whatsapp-url",
        whatsapp_url,
        "--phone-number-id",
        phone_number_id,
        *(f"--number={digits}={number_id}" for digits, number_id in (numbers or {}).items()),
        *(extra_args or []),
    ]
    service = ServiceProcess(
        f"facade-{dialect}", args, health_url=f"{base_url}/_facade/health", log_path=log_path, env=env
    )
    return service, base_url
