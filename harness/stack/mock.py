"""The mock WhatsApp Cloud API as a process of a run (or of ``vendors check --launch``), and the candidate's
webhooks subscribed at it."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import yaml

from ground.errors import HarnessError
from ground.services import ServiceProcess

MOCK_ADMIN_TOKEN = "mock-admin-token"  # the mock's documented development default (docs/contracts.md)


def start_mock(
    stack: ExitStack, port: int, mock_config: dict[str, Any], *, config_path: Path, log_path: Path
) -> tuple[str, ServiceProcess]:
    """Write ``mock_config`` to ``config_path``, serve the mock on ``port`` until healthy; stopped by ``stack``."""
    base = f"http://127.0.0.1:{port}"
    config_path.write_text(yaml.safe_dump(mock_config), encoding="utf-8")
    service = ServiceProcess.python_module(
        "mock",
        ["mock", "serve", "--port", str(port), "--config", str(config_path)],
        health_url=f"{base}/_mock/health",
        log_path=log_path,
    )
    stack.callback(service.stop)
    service.start()
    return base, service


def subscribe(mock_url: str, vendor_url: str) -> None:
    """Subscribe the vendor's webhook receiver at the mock (verification skipped: the vendor is ours)."""
    body = {"callback_url": f"{vendor_url}/webhooks/whatsapp", "verify_token": "scrmbench", "skip_verification": True}
    headers = {"Authorization": f"Bearer {MOCK_ADMIN_TOKEN}"}
    try:
        answer = httpx.post(f"{mock_url}/_mock/subscriptions", json=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise HarnessError(f"could not subscribe the vendor's webhooks at the mock ({exc})") from exc
    if answer.status_code >= 300:
        raise HarnessError(f"the mock refused the webhook subscription: {answer.status_code} {answer.text[:200]}")
