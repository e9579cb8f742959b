"""Toxiproxy's own clients drive ``scrmbench proxy serve`` unchanged (docs/whatsapp-2026.md, "Toxiproxy clients").

- ``toxiproxy-python`` (PyPI, used as published): create a proxy, add, update, list and remove a latency toxic,
  disable and enable the proxy, reset. The library has no call that updates a toxic, so the update goes through
  the library's own ``APIConsumer`` (POST, as Toxiproxy 2.x clients do) and once as ``PATCH`` with ``requests``,
  the library's HTTP client, at the address the library is pointed at.
- The Chaos Toolkit (``chaos run``) with ``chaostoolkit-toxiproxy``: an experiment file adds a latency toxic,
  measures it through the proxy, and its rollback removes the toxic.

All traffic is loopback: the proxy's listen address and its upstream (the proxy's own control API) are
127.0.0.1, and proxy environment variables are cleared for the clients and the child processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ground.net import free_port
from ground.services import ServiceProcess

toxiproxy = pytest.importorskip("toxiproxy", reason="toxiproxy-python is a dev dependency (pyproject [dev])")
requests = pytest.importorskip("requests")

ROOT = Path(__file__).resolve().parents[4]
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def _loopback_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _PROXY_VARS}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


@pytest.fixture
def proxy_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    for key in _PROXY_VARS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    port = free_port()
    service = ServiceProcess.python_module(
        "proxy",
        ["proxy", "serve", "--api-port", str(port)],
        health_url=f"http://127.0.0.1:{port}/version",
        log_path=tmp_path / "proxy.log",
        env=_loopback_env(),
    )
    service.start()
    try:
        yield port
    finally:
        service.stop()


def _get_ms(url: str) -> float:
    started = time.perf_counter()
    requests.get(url, timeout=5).raise_for_status()
    return (time.perf_counter() - started) * 1_000.0


def _fastest_ms(url: str, samples: int = 3) -> float:
    """The quickest of a few GETs: a stall of the shared machine has to hit every one to move it up."""
    return min(_get_ms(url) for _ in range(samples))


LATENCY_MS = 500  # the toxic's latency: a GET below it has no toxic in its way, one at or above it went through it


def test_toxiproxy_python_drives_the_proxy(proxy_api: int) -> None:
    from toxiproxy import Toxiproxy
    from toxiproxy.api import APIConsumer

    saved = APIConsumer.host, APIConsumer.port
    server = Toxiproxy()
    server.update_api_consumer("127.0.0.1", proxy_api)
    try:
        assert server.running() and server.version()
        listen = f"127.0.0.1:{free_port()}"
        proxy = server.create(upstream=f"127.0.0.1:{proxy_api}", name="vendor", listen=listen)
        assert proxy.name == "vendor" and proxy.listen == listen and proxy.enabled is True
        assert set(server.proxies()) == {"vendor"}
        through = f"http://{listen}/version"
        direct = requests.get(f"http://127.0.0.1:{proxy_api}/version", timeout=5)
        relayed = requests.get(through, timeout=5)
        assert relayed.status_code == direct.status_code == 200 and relayed.content == direct.content
        assert _fastest_ms(through) < LATENCY_MS  # the baseline: no toxic yet

        proxy.add_toxic(type="latency", name="slow", attributes={"latency": LATENCY_MS, "jitter": 0})
        [listed] = proxy.toxics().values()
        assert (listed.name, listed.type, listed.attributes["latency"]) == ("slow", "latency", LATENCY_MS)
        assert _get_ms(through) >= LATENCY_MS  # the proxy cannot deliver before the toxic's latency

        APIConsumer.post("/proxies/vendor/toxics/slow", json={"attributes": {"latency": 150}})  # the library's way
        assert proxy.get_toxic("slow").attributes["latency"] == 150
        base = f"http://{APIConsumer.host}:{APIConsumer.port}"
        patched = requests.patch(f"{base}/proxies/vendor/toxics/slow", json={"attributes": {"latency": 120}}, timeout=5)
        assert patched.status_code == 200 and patched.json()["attributes"]["latency"] == 120
        assert proxy.get_toxic("slow").attributes["latency"] == 120
        assert LATENCY_MS > _fastest_ms(through) >= 120  # the update took effect: the old latency is gone

        assert proxy.destroy_toxic("slow") and proxy.toxics() == {}
        assert _fastest_ms(through) < 120  # removed: below even the updated latency

        proxy.disable()
        assert server.get_proxy("vendor").enabled is False
        with pytest.raises(requests.ConnectionError):
            requests.get(through, timeout=2)
        proxy.enable()
        assert server.get_proxy("vendor").enabled is True
        assert requests.get(through, timeout=5).content == direct.content  # relays again

        proxy.add_toxic(type="latency", attributes={"latency": LATENCY_MS})  # default name latency_downstream
        proxy.disable()
        assert server.reset()
        again = server.get_proxy("vendor")
        assert again.enabled is True and again.toxics() == {}
        assert _fastest_ms(through) < LATENCY_MS  # reset took the toxic away and re-enabled the proxy
        assert server.destroy(again) and server.proxies() == {}
    finally:
        APIConsumer.host, APIConsumer.port = saved


def test_chaos_toolkit_experiment_adds_verifies_and_rolls_back_a_latency_toxic(proxy_api: int, tmp_path: Path) -> None:
    pytest.importorskip("chaostoxi", reason="chaostoolkit-toxiproxy is a dev dependency (pyproject [dev])")
    chaos = Path(sys.executable).with_name("chaos")
    if not chaos.exists():
        pytest.skip("the chaos command (chaostoolkit) is not installed beside this interpreter")
    api = f"http://127.0.0.1:{proxy_api}"
    listen = f"127.0.0.1:{free_port()}"
    body = {"name": "vendor", "listen": listen, "upstream": f"127.0.0.1:{proxy_api}"}
    created = requests.post(f"{api}/proxies", json=body, timeout=5)
    assert created.status_code == 201, created.text
    probe = {"type": "python", "module": "tests.harness.faults.proxy.chaos_probe", "func": "round_trip_ms"}
    experiment = {
        "version": "1.0.0",
        "title": "A latency toxic on the vendor proxy is felt by its clients",
        "description": "scrmbench proxy serve driven by chaostoolkit-toxiproxy",
        "configuration": {"toxiproxy_url": api},
        "steady-state-hypothesis": {
            "title": "the proxy exists",
            "probes": [
                {
                    "type": "probe",
                    "name": "proxy-exists",
                    "tolerance": True,
                    "provider": {
                        "type": "python",
                        "module": "chaostoxi.proxy.probes",
                        "func": "proxy_exist",
                        "arguments": {"proxy_name": "vendor"},
                    },
                }
            ],
        },
        "method": [
            {
                "type": "action",
                "name": "add-latency",
                "provider": {
                    "type": "python",
                    "module": "chaostoxi.toxic.actions",
                    "func": "create_latency_toxic",
                    "arguments": {"for_proxy": "vendor", "toxic_name": "slow", "latency": 400},
                },
            },
            {
                "type": "probe",
                "name": "round-trip-through-proxy",
                "provider": {**probe, "arguments": {"url": f"http://{listen}/version"}},
            },
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "remove-latency",
                "provider": {
                    "type": "python",
                    "module": "chaostoxi.toxic.actions",
                    "func": "delete_toxic",
                    "arguments": {"for_proxy": "vendor", "toxic_name": "slow"},
                },
            }
        ],
    }
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(experiment))
    journal = tmp_path / "journal.json"
    result = subprocess.run(
        [str(chaos), "--no-version-check", "--no-log-file", "run", "--journal-path", str(journal), str(path)],
        cwd=tmp_path,
        env=_loopback_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads(journal.read_text())
    assert record["status"] == "completed" and record["steady_states"]["before"]["steady_state_met"]
    outputs = {run["activity"]["name"]: run for run in record["run"]}
    assert outputs["add-latency"]["status"] == "succeeded"
    assert outputs["round-trip-through-proxy"]["output"] >= 400
    assert [run["status"] for run in record["rollbacks"]] == ["succeeded"]
    assert requests.get(f"{api}/proxies/vendor/toxics", timeout=5).json() == []
    assert (
        _fastest_ms(f"http://{listen}/version") < 400
    )  # rolled back: the proxy no longer holds its clients for the toxic's 400 ms
