"""The control API through the Python client, the proxy faults through both controls, and the CLI process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ground.errors import EXIT_BAD_INPUT, FaultError
from ground.net import free_port
from ground.services import ServiceProcess
from harness.cli import main
from harness.faults import REGISTRY, FaultTargets, FaultTimeline, ProxyTarget
from harness.faults.proxy import ProxyClient, ProxyServer
from tests.fixtures.proxy import fastest_round_trip, sync_round_trip, threaded_echo

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def api() -> Iterator[tuple[ProxyServer, ProxyClient, str]]:
    with threaded_echo() as upstream, ProxyServer(seed=3, api_port=free_port()) as server:
        with ProxyClient(f"http://127.0.0.1:{server.api_port}", timeout_s=5) as client:
            yield server, client, upstream


def test_proxy_and_toxic_lifecycle_through_the_api(api: tuple[ProxyServer, ProxyClient, str]) -> None:
    _, client, upstream = api
    listen = f"127.0.0.1:{free_port()}"
    created = client.create_proxy("vendor", listen, upstream)
    assert created["listen"] == listen and created["enabled"] is True
    assert fastest_round_trip(listen) < 0.3  # the echo comes back through the proxy; the baseline, no toxic

    toxic = client.add_toxic("vendor", {"type": "latency", "attributes": {"latency": 300}})
    assert toxic["name"] == "latency_downstream" and toxic["stream"] == "downstream"
    assert sync_round_trip(listen) >= 0.3  # the proxy cannot deliver before the toxic's latency
    assert client.update_toxic("vendor", "latency_downstream", {"attributes": {"latency": 1}})["attributes"] == {
        "latency": 1
    }
    assert [t["name"] for t in client.toxics("vendor")] == ["latency_downstream"]
    assert fastest_round_trip(listen) < 0.3  # the update took effect on new connections

    client.set_enabled("vendor", False)
    with pytest.raises(ConnectionRefusedError):
        sync_round_trip(listen)
    client.reset()  # re-enables and removes every toxic
    assert client.proxy("vendor")["toxics"] == [] and client.proxy("vendor")["enabled"] is True
    assert fastest_round_trip(listen) < 0.3  # relays again, with no toxic in the way
    client.delete_proxy("vendor")
    assert client.proxies() == {}


def test_api_errors_come_from_the_table(api: tuple[ProxyServer, ProxyClient, str]) -> None:
    _, client, upstream = api
    client.create_proxy("p", f"127.0.0.1:{free_port()}", upstream)
    with pytest.raises(FaultError, match="409: proxy already exists"):
        client.create_proxy("p", f"127.0.0.1:{free_port()}", upstream)
    with pytest.raises(FaultError, match="404: proxy not found"):
        client.add_toxic("nope", {"type": "latency"})
    with pytest.raises(FaultError, match="400: invalid toxic: unknown toxic type 'lag'"):
        client.add_toxic("p", {"type": "lag"})
    with pytest.raises(FaultError, match="400: invalid toxic: toxic 'bandwidth' attribute 'rate'"):
        client.add_toxic("p", {"type": "bandwidth", "attributes": {"rate": -1}})
    client.add_toxic("p", {"type": "slicer", "attributes": {"average_size": 10}})
    with pytest.raises(FaultError, match="409: toxic already exists"):
        client.add_toxic("p", {"type": "slicer", "attributes": {"average_size": 10}})
    with pytest.raises(FaultError, match="404: toxic not found"):
        client.remove_toxic("p", "ghost")
    client.remove_toxic("p", "ghost", missing_ok=True)
    with pytest.raises(FaultError, match="400: upstream refused"):
        client.create_proxy("far", f"127.0.0.1:{free_port()}", "192.0.2.1:80")


def test_unreachable_api_is_a_fault_error_naming_the_call() -> None:
    with ProxyClient(f"http://127.0.0.1:{free_port()}", timeout_s=1) as client:
        with pytest.raises(FaultError, match=r"POST http://127\.0\.0\.1:\d+/reset failed: ConnectError"):
            client.reset()


@pytest.mark.parametrize("control_kind", ["http", "in-process"])
def test_proxy_faults_inject_and_clear(
    api: tuple[ProxyServer, ProxyClient, str], control_kind: str, tmp_path: Path
) -> None:
    server, client, upstream = api
    listen = f"127.0.0.1:{free_port()}"
    server.create_proxy("vendor", listen, upstream)
    control = client if control_kind == "http" else server
    targets = FaultTargets(proxies={"vendor": ProxyTarget(control, "vendor")})
    timeline = FaultTimeline(tmp_path / "faults.jsonl")

    assert fastest_round_trip(listen) < 0.3  # the baseline, before the fault
    latency = REGISTRY.get("proxy-latency").create({"latency": 300, "stream": "upstream"}, targets, "vendor")
    timeline.apply(latency, "inject", "l1")
    assert sync_round_trip(listen) >= 0.3
    timeline.apply(latency, "clear", "l1")
    assert client.toxics("vendor") == []
    assert fastest_round_trip(listen) < 0.3  # cleared: the latency is gone

    down = REGISTRY.get("proxy-down").create({}, targets, "vendor")
    timeline.apply(down, "inject", "d1")
    with pytest.raises(ConnectionRefusedError):
        sync_round_trip(listen)
    timeline.apply(down, "clear", "d1")
    sync_round_trip(listen)  # accepts and relays again: raises ConnectionRefusedError, as above, otherwise
    assert [e.action for e in timeline.events] == ["inject", "clear", "inject", "clear"]
    assert timeline.events[0].params["latency"] == 300 and timeline.events[0].target == "proxy:vendor"


def test_proxy_fault_on_a_missing_proxy_is_recorded_and_raised(
    api: tuple[ProxyServer, ProxyClient, str], tmp_path: Path
) -> None:
    _, client, _ = api
    targets = FaultTargets(proxies={"vendor": ProxyTarget(client, "gone")})
    fault = REGISTRY.get("proxy-timeout").create({"timeout": 0}, targets, "vendor")
    timeline = FaultTimeline(tmp_path / "faults.jsonl")
    with pytest.raises(FaultError, match="404: proxy not found"):
        timeline.apply(fault, "inject", "t1")
    assert timeline.events[-1].action == "error" and "proxy not found" in timeline.events[-1].detail


@pytest.mark.slow
def test_cli_serves_a_proxy_and_its_api(tmp_path: Path) -> None:
    api_port, listen_port = free_port(), free_port()
    with threaded_echo() as upstream:
        args = ["proxy", "serve", "--listen", f"127.0.0.1:{listen_port}", "--upstream", upstream, "--name", "vendor"]
        service = ServiceProcess(
            "proxy",
            [sys.executable, "-m", "harness.cli", *args, "--api-port", str(api_port), "--seed", "1"],
            health_url=f"http://127.0.0.1:{api_port}/version",
            log_path=tmp_path / "proxy.log",
        )
        with service, ProxyClient(f"http://127.0.0.1:{api_port}") as client:
            assert fastest_round_trip(f"127.0.0.1:{listen_port}") < 0.3  # relays; the baseline, no toxic
            client.add_toxic("vendor", {"type": "latency", "attributes": {"latency": 300}})
            assert sync_round_trip(f"127.0.0.1:{listen_port}") >= 0.3
            assert list(client.proxies()) == ["vendor"]


def test_cli_refuses_a_non_loopback_listen_address(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["proxy", "serve", "--listen", "192.0.2.1:9000", "--upstream", "127.0.0.1:1", "--api-port", "0"])
    assert code == EXIT_BAD_INPUT
    assert "only listens on loopback" in capsys.readouterr().err
    assert main(["proxy", "serve", "--listen", "127.0.0.1:9000"]) == EXIT_BAD_INPUT


def test_in_process_api_on_a_taken_port_fails_clearly() -> None:
    import socket

    from ground.errors import HarnessError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = ProxyServer(api_port=taken.getsockname()[1])
        with pytest.raises(HarnessError, match=r"could not listen on 127\.0\.0\.1"):
            server.start()
        assert not server._thread.is_alive()


def test_populate_is_idempotent_and_toxics_can_be_read_back(api: tuple[ProxyServer, ProxyClient, str]) -> None:
    import httpx

    server, client, upstream = api
    base = f"http://127.0.0.1:{server.api_port}"
    body = [{"name": "a", "listen": f"127.0.0.1:{free_port()}", "upstream": upstream}]
    first = httpx.post(f"{base}/populate", json=body, timeout=5)
    again = httpx.post(f"{base}/populate", json=body, timeout=5)
    assert first.status_code == again.status_code == 201
    assert first.json()["proxies"][0]["listen"] == again.json()["proxies"][0]["listen"]
    assert first.headers["X-Request-Id"] != again.headers["X-Request-Id"]
    toxic = {"name": "lag", "type": "latency", "stream": "upstream", "toxicity": 1.0, "attributes": {"latency": 5}}
    client.add_toxic("a", toxic)
    assert httpx.get(f"{base}/proxies/a/toxics/lag", timeout=5).json() == toxic
    bad = httpx.post(f"{base}/populate", content=b"{not json", timeout=5)
    assert bad.status_code == 400 and bad.json()["error"].startswith("bad request body: not JSON")
