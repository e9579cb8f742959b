"""The mock WhatsApp Cloud API as a process of a run (or of ``vendors check --launch``), and the candidate's
webhooks subscribed at it.

Sharded (``scrmbench run --mock-shards N``): the mock runs as ``mock serve --workers N`` on N consecutive ports
(``mocks/whatsapp/sharding.py``: shard i on ``base + i`` owns the phone numbers at positions i, i+N, …), with at
least N phone numbers in its config (added when the run's settings name fewer). ``shard_routes`` is the map from
each phone number id to the URL of the shard that owns it, computed with the mock's own ``ShardMap``, so the load
and the vendor send each number's traffic straight to its shard. The harness keeps talking to the base port only:
its control plane fans writes out to every shard and merges the ledger, events and stats, so the run is scored as
one run.

``mock_numbers``: the mock's phone numbers for a profile's business numbers; ``facade_numbers``: the numbers a
facade in front of that mock may send from (digits -> the mock's phone-number id).
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import yaml

from ground.errors import ConfigError, HarnessError
from ground.services import ServiceProcess
from harness.config.profiles import VendorProfile
from mocks.whatsapp.config import ADMIN_TOKEN_ENV, MockConfig, admin_token_from_env
from mocks.whatsapp.sharding import shard_configs
from mocks.whatsapp.shards import ShardMap


def mock_admin_token() -> str:
    """The mock's admin token for the harness's calls and for the mock it starts (read once per run by the
    launch context): ``SCRMBENCH_MOCK_ADMIN_TOKEN``, else the development default; redacted everywhere."""
    return admin_token_from_env()


MAX_MOCK_SHARDS = 16  # the mock's processes: beyond the cores of any machine this harness loads from


def check_mock_shards(shards: object, *, source: str = "--mock-shards") -> int:
    """``shards`` as a whole number of mock processes, 1 to ``MAX_MOCK_SHARDS``, or a ConfigError naming the fix."""
    if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= MAX_MOCK_SHARDS:
        raise ConfigError(
            f"the mock runs as 1 to {MAX_MOCK_SHARDS} processes",
            source=source,
            field="mock_shards",
            value=shards,
            fix=f"give a whole number from 1 (one process, the default) to {MAX_MOCK_SHARDS}, "
            "at most one per core the mock may use",
        )
    return shards


def sharded_mock_config(mock_config: dict[str, Any], shards: int, *, source: str = "--mock-shards") -> dict[str, Any]:
    """``mock_config`` with at least ``shards`` phone numbers (one owner per number): the ones it names, or the
    mock's default number, then consecutive ids after the last. Fewer numbers named explicitly is refused."""
    if shards <= 1:
        return mock_config
    named = mock_config.get("phone_numbers")
    if named is not None:
        if not isinstance(named, list) or len(named) < shards:
            raise ConfigError(
                f"{shards} mock shards need at least {shards} phone numbers (each number is owned by one shard)",
                source=source,
                field="mock_settings.phone_numbers",
                value=len(named) if isinstance(named, list) else named,
                fix=f"list at least {shards} phone numbers in the mock settings, or leave them out and let the run "
                "add them, or use fewer shards",
            )
        return mock_config
    first = MockConfig().phone_numbers[0]
    numbers = [
        {"id": str(int(first.id) + k), "display_phone_number": str(int(first.display_phone_number) + k)}
        for k in range(shards)
    ]
    return {**mock_config, "phone_numbers": numbers}


def shard_routes(mock_config: dict[str, Any], shards: int, base_port: int) -> dict[str, str]:
    """Each phone number id of a mock sharded ``shards`` ways from ``base_port`` → the URL of the shard that owns it
    (the mock's own ``ShardMap``, so the harness and the mock agree). Empty for one process."""
    if shards <= 1:
        return {}
    config = MockConfig.model_validate({**mock_config, "port": base_port})
    owners = ShardMap(shard_configs(config, shards)[0])
    return {number.id: owners.url(owners.number_owner(number.id)) for number in config.phone_numbers}


def start_mock(
    stack: ExitStack,
    port: int,
    mock_config: dict[str, Any],
    *,
    config_path: Path,
    log_path: Path,
    shards: int = 1,
    admin_token: str | None = None,
) -> tuple[str, ServiceProcess]:
    """Write ``mock_config`` to ``config_path``, serve the mock on ``port`` until healthy; stopped by ``stack``.

    ``shards`` > 1: ``mock serve --workers shards`` on ``port`` … ``port + shards - 1`` (the caller found them
    free, ``ground.net.free_port_run``), ready once every shard answers its health check. The base URL is shard 0's,
    whose control plane speaks for all of them. ``admin_token`` (default ``mock_admin_token()``) is handed to the
    mock explicitly, so the mock and the harness's calls use the same one."""
    base = f"http://127.0.0.1:{port}"
    config_path.write_text(yaml.safe_dump(sharded_mock_config(mock_config, shards)), encoding="utf-8")
    workers = ["--workers", str(shards)] if shards > 1 else []
    service = ServiceProcess.python_module(
        "mock",
        ["mock", "serve", "--port", str(port), "--config", str(config_path), *workers],
        health_url=f"{base}/_mock/health",
        log_path=log_path,
        env={ADMIN_TOKEN_ENV: mock_admin_token() if admin_token is None else admin_token},
    )
    stack.callback(service.stop)
    service.start()
    for shard in range(1, shards):  # the supervisor starts them together; each must answer before any load
        ServiceProcess(
            f"mock shard {shard}", [], health_url=f"http://127.0.0.1:{port + shard}/_mock/health"
        ).wait_healthy()
    return base, service


def subscribe(mock_url: str, vendor_url: str, admin_token: str | None = None) -> None:
    """Subscribe the vendor's webhook receiver at the mock (verification skipped: the vendor is ours);
    ``admin_token`` None: ``mock_admin_token()`` (deploy/docker-compose.yml calls it so)."""
    body = {"callback_url": f"{vendor_url}/webhooks/whatsapp", "verify_token": "scrmbench", "skip_verification": True}
    headers = {"Authorization": f"Bearer {mock_admin_token() if admin_token is None else admin_token}"}
    try:
        answer = httpx.post(f"{mock_url}/_mock/subscriptions", json=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise HarnessError(f"could not subscribe the vendor's webhooks at the mock ({exc})") from exc
    if answer.status_code >= 300:
        raise HarnessError(f"the mock refused the webhook subscription: {answer.status_code} {answer.text[:200]}")


DEFAULT_PHONE_NUMBER_ID = "100000000000001"  # the mock's, the reference vendor's and the facades' default number


def mock_numbers(profile: VendorProfile | None) -> dict[str, Any]:
    """The mock's ``phone_numbers`` for a profile with several numbers (or one with its own id): each number's id
    (its digits when the profile gives none), so the mock paces and ledgers every one of them, plus the default
    number the reference vendor and the facades send from when a call names none. ``{}``: the mock's default."""
    if profile is None:
        return {}
    numbers = profile.business_numbers()
    if len(numbers) == 1 and numbers[0].id in (DEFAULT_PHONE_NUMBER_ID, numbers[0].digits):
        return {}
    ids = [DEFAULT_PHONE_NUMBER_ID, *(n.id for n in numbers if n.id != DEFAULT_PHONE_NUMBER_ID)]
    display = {n.id: n.digits for n in numbers}
    return {"phone_numbers": [{"id": i, "display_phone_number": display.get(i, "15550000001")} for i in ids]}


def facade_numbers(profile: VendorProfile) -> dict[str, str]:
    """The numbers a facade in front of the run's mock (``mock_numbers``) may send from: each profile number's
    digits -> the mock's phone-number id behind it (the mock's default number when the mock has only that)."""
    numbers = profile.business_numbers()
    if not mock_numbers(profile):
        return {n.digits: DEFAULT_PHONE_NUMBER_ID for n in numbers}
    return {n.digits: n.id for n in numbers}
