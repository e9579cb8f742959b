"""Does the chaos proxy distort what it relays? Requests/s through it with no toxic ÷ direct (issue 7, goal ≥ 0.7).

Run: ``.venv/bin/python bench/proxy_overhead.py`` (needs ``wrk``). The upstream is the mock WhatsApp API
(``scrmbench mock serve``: uvicorn, a real Python HTTP app like the candidates), the proxy is
``scrmbench proxy serve`` in its own process, both on loopback. The same wrk (1 thread, 32 keep-alive
connections) drives ``GET /_mock/health`` directly and through the proxy, alternating, three rounds each, in one
run; the medians are compared. The last line prints the ratio.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._wrk import run_wrk
from harness.net import free_port
from harness.services import ServiceProcess

ROUNDS = 3
SECONDS = 4.0


def main() -> None:
    logs = Path(tempfile.gettempdir())
    mock_port, proxy_port, api_port = free_port(), free_port(), free_port()
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
    with mock, proxy:
        direct_url = f"http://127.0.0.1:{mock_port}/_mock/health"
        proxied_url = f"http://127.0.0.1:{proxy_port}/_mock/health"
        run_wrk(direct_url, seconds=1)  # warm-up both paths
        run_wrk(proxied_url, seconds=1)
        direct, proxied = [], []
        for round_no in range(1, ROUNDS + 1):
            d = run_wrk(direct_url, seconds=SECONDS)
            p = run_wrk(proxied_url, seconds=SECONDS)
            if d.errors or p.errors or d.non_2xx or p.non_2xx:
                sys.exit(f"round {round_no}: errors direct={d.errors}/{d.non_2xx} proxied={p.errors}/{p.non_2xx}")
            direct.append(d.requests_per_s)
            proxied.append(p.requests_per_s)
            print(f"round {round_no}: direct {d.requests_per_s:.0f} req/s, through proxy {p.requests_per_s:.0f} req/s")
    ratio = statistics.median(proxied) / statistics.median(direct)
    print(f"median direct {statistics.median(direct):.0f} req/s, through proxy {statistics.median(proxied):.0f} req/s")
    print(f"proxied/direct requests per second (goal >= 0.7): {ratio:.3f}")


if __name__ == "__main__":
    main()
