"""Does the chaos proxy distort what it relays? Requests/s through it with no toxic ÷ direct (goal ≥ 0.9).

Run: ``.venv/bin/python bench/proxy_overhead.py`` (needs ``wrk``). The upstream is the mock WhatsApp API
(``scrmbench mock serve``: uvicorn, a real Python HTTP app like the candidates), on loopback. Both ways the
harness runs the proxy are measured:

- ``process``: ``scrmbench proxy serve`` in its own process (what a user starts by hand);
- ``in-process``: :class:`~harness.faults.proxy.control.ProxyServer` on its own thread in this process, as
  ``failover.method: proxy`` runs it (``harness/faults/proxy/endpoint.py``).

The same wrk (1 thread, 32 keep-alive connections) drives ``GET /_mock/health`` directly and through each proxy,
interleaved: every round runs all three for a few seconds each, in a rotating order, so a busy machine hits
every side alike. A proxy's ratio is the median over the rounds of (its req/s ÷ direct req/s in the same round),
so load that drifts between rounds cancels. The last line prints the lower of the two ratios.

Then the latency each proxy adds with no toxic, unloaded: wrk with one connection (one request at a time), again
interleaved over rounds; added = proxied − direct, for the medians over rounds of wrk's p50 and p99. Toxiproxy's
own CI bounds what its proxy may add at 300 µs p50 (goal here too).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._wrk import run_wrk
from ground.net import free_port
from ground.services import ServiceProcess
from harness.faults.proxy.control import ProxyServer

ROUNDS = 9
SECONDS = 2.0


def main() -> None:
    logs = Path(tempfile.gettempdir())
    mock_port, proxy_port, api_port, inproc_port = free_port(), free_port(), free_port(), free_port()
    mock = ServiceProcess.python_module(
        "mock",
        ["mock", "serve", "--port", str(mock_port)],
        health_url=f"http://127.0.0.1:{mock_port}/_mock/health",
        log_path=logs / f"bench-proxy-mock-{mock_port}.log",
    )
    proxy_args = ["--listen", f"127.0.0.1:{proxy_port}", "--upstream", f"127.0.0.1:{mock_port}"]
    proxy = ServiceProcess.python_module(
        "proxy",
        ["proxy", "serve", *proxy_args, "--api-port", str(api_port)],
        health_url=f"http://127.0.0.1:{api_port}/version",
        log_path=logs / f"bench-proxy-{proxy_port}.log",
    )
    with mock, proxy, ProxyServer() as inproc:
        inproc.create_proxy("bench", f"127.0.0.1:{inproc_port}", f"127.0.0.1:{mock_port}")
        urls = {
            "direct": f"http://127.0.0.1:{mock_port}/_mock/health",
            "process": f"http://127.0.0.1:{proxy_port}/_mock/health",
            "in-process": f"http://127.0.0.1:{inproc_port}/_mock/health",
        }
        for url in urls.values():
            run_wrk(url, seconds=1)  # warm-up every path
        rates: dict[str, list[float]] = {name: [] for name in urls}
        names = list(urls)
        for round_no in range(ROUNDS):
            order = names[round_no % len(names) :] + names[: round_no % len(names)]
            for name in order:
                result = run_wrk(urls[name], seconds=SECONDS)
                if result.errors or result.non_2xx:
                    sys.exit(f"round {round_no + 1}, {name}: {result.errors} socket errors, {result.non_2xx} non-2xx")
                rates[name].append(result.requests_per_s)
            line = ", ".join(f"{name} {rates[name][-1]:.0f}" for name in names)
            print(f"round {round_no + 1}: {line} req/s")
        added = added_latency(urls)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    ratios = {
        name: statistics.median(p / d for p, d in zip(rates[name], rates["direct"], strict=True))
        for name in ("process", "in-process")
    }
    print(", ".join(f"median {name} {value:.0f} req/s" for name, value in medians.items()))
    for name, ratio in ratios.items():
        print(f"{name} proxy: proxied/direct {ratio:.3f}")
    for name, (p50_us, p99_us) in added.items():
        print(f"{name} proxy adds, one request at a time: p50 {p50_us:.0f} us (goal <= 300 us), p99 {p99_us:.0f} us")
    print(f"proxied/direct requests per second, worse of the two proxies (goal >= 0.9): {min(ratios.values()):.3f}")


def added_latency(urls: dict[str, str], rounds: int = 5) -> dict[str, tuple[float, float]]:
    """Per proxy: (added p50, added p99) in µs over ``rounds`` interleaved one-connection wrk runs."""
    p50: dict[str, list[float]] = {name: [] for name in urls}
    p99: dict[str, list[float]] = {name: [] for name in urls}
    names = list(urls)
    for round_no in range(rounds):
        for name in names[round_no % len(names) :] + names[: round_no % len(names)]:
            result = run_wrk(urls[name], seconds=SECONDS, connections=1)
            p50[name].append(result.p50_ms)
            p99[name].append(result.p99_ms)
    direct50, direct99 = statistics.median(p50["direct"]), statistics.median(p99["direct"])
    return {
        name: (1000 * (statistics.median(p50[name]) - direct50), 1000 * (statistics.median(p99[name]) - direct99))
        for name in names
        if name != "direct"
    }


if __name__ == "__main__":
    main()
