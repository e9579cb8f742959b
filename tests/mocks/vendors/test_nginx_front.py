"""deploy/nginx/ha-pair.conf: real nginx (Debian's nginx-light) in front of the HA pair, on loopback."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest

from ground.net import free_port
from ground.services import ServiceProcess
from mocks.vendors.launch import launch_reference
from mocks.whatsapp.config import LimitsConfig, MockConfig
from tests.fixtures.common import require_system
from tests.mocks.vendors.e2e import ledger_tokens, post_until_accepted, send_texts, wait_ledger

pytestmark = pytest.mark.slow

CONF = Path(__file__).resolve().parents[3] / "deploy" / "nginx" / "ha-pair.conf"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/sbin/nginx") if Path(p).exists()), None)


def render(prefix: Path, port: int, primary: str, standby: str) -> str:
    text = CONF.read_text()
    for name, value in {
        "PREFIX": str(prefix),
        "LISTEN_PORT": str(port),
        "PRIMARY": primary,
        "STANDBY": standby,
    }.items():
        text = text.replace(f"@{name}@", value)
    directives = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"@[A-Z_]+@", directives), "every placeholder is filled"
    return text


@pytest.fixture
def mock_config() -> MockConfig:
    return MockConfig(limits=LimitsConfig(enforce_customer_window=False, tier="unlimited"))


@pytest.fixture
def nginx_binary() -> str:
    """The nginx binary; checked before the mock and the vendors start."""
    require_system("nginx-light", NGINX is not None, "deploy/nginx/ha-pair.conf is exercised with a real nginx")
    return str(NGINX)


def test_nginx_fails_over_to_the_standby_on_passive_checks(nginx_binary, tmp_path, mock_server):
    db = tmp_path / "ha.sqlite3"
    common = {"whatsapp_url": mock_server.base_url, "db_path": db, "log_dir": tmp_path, "overrides": {"lease_s": 1.0}}
    primary = launch_reference("fast-failover", role="primary", instance="primary", **common)
    handles = [primary]
    try:
        standby = launch_reference("fast-failover", role="standby", instance="standby", **common)
        handles.append(standby)
        _run_through_nginx(nginx_binary, tmp_path, mock_server, primary, standby)
    finally:
        for handle in reversed(handles):
            handle.stop()


def _run_through_nginx(nginx_binary, tmp_path, mock_server, primary, standby):
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(
        render(prefix, port, primary.base_url.removeprefix("http://"), standby.base_url.removeprefix("http://"))
    )
    nginx = ServiceProcess(
        "nginx",
        [nginx_binary, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)],
        health_url=f"http://127.0.0.1:{port}/health",
        log_path=tmp_path / "nginx.out",
    )
    try:
        nginx.start()
        base_url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base_url}/health").json()["role"] == "primary"
        before = send_texts(base_url, 10)
        assert len(before) == 10
        wait_ledger(mock_server, set(before))
        primary.kill()
        message_id, _ = post_until_accepted(base_url, "sb-vend01-ng1", 1)
        assert message_id.startswith("msg_")
        assert httpx.get(f"{base_url}/health").json()["role"] == "standby"
        assert httpx.get(
            f"{standby.base_url}/_vendor/stats", headers={"Authorization": "Bearer reference-api-key"}
        ).json()["promoted"]
        after = send_texts(base_url, 5, first=100)
        assert len(after) == 5  # served by the promoted standby, no errors once failed over
        tokens = wait_ledger(mock_server, set(before) | set(after))
        assert sorted(t for t in tokens if t in before or t in after) == sorted([*before, *after])
        assert len(ledger_tokens(mock_server)) == len(tokens)
    finally:
        nginx.stop()
