"""A proxy in front of a real HTTP server: the load goes through it and a proxy fault takes the endpoint down."""

from __future__ import annotations

import httpx
import pytest

from ground.services import ServiceProcess
from harness.faults import REGISTRY, FaultTargets
from harness.faults.proxy.endpoint import proxy_in_front

pytestmark = pytest.mark.timeout(60)


def test_proxy_in_front_relays_and_goes_down_on_a_fault(child_server: ServiceProcess) -> None:
    with proxy_in_front(child_server.health_url, name="vendor", seed=2) as endpoint:
        assert endpoint.base_url.startswith("http://127.0.0.1:") and endpoint.base_url != child_server.health_url
        assert httpx.get(endpoint.base_url, timeout=5).status_code == 200
        down = REGISTRY.get("proxy-down").create({}, FaultTargets(proxies={"vendor": endpoint.target}), "vendor")
        down.inject()
        with pytest.raises(httpx.ConnectError):
            httpx.get(endpoint.base_url, timeout=5)
        down.clear()
        assert httpx.get(endpoint.base_url, timeout=5).status_code == 200
