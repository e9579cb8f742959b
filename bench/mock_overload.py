"""The mock under 10x the load it can serve (issue 10): it sheds, stays up, answers its control plane, keeps
memory bounded and recovers at once when the load drops.

Run: ``.venv/bin/python bench/mock_overload.py`` (needs ``wrk``; ``--quick``: one-second phases, for CI). One
mock process; wrk drives it in phases:

1. capacity: sends flat out with limits set high -> C sends/s (the load it can serve);
2. 10x over its limit: the phone number's throughput limit set to a tenth of the rate wrk offers -> served/offered
   should be about 0.1, the rest answered at once with 130429 (the configured rate-limit error);
3. a slowed mock (200 ms injected latency) under 512 connections with ``max_in_flight`` 64: requests pile up
   and the excess is shed at once with 503 (a plain CPU flood from closed-loop clients cannot queue more than one
   request per connection, so it is the slow case that needs the guard);
4. recovery: the first request after the load stops and its status, then how long until a send is accepted
   (requests still sleeping in the slowed mock when wrk stops hold their in-flight places for up to 200 ms).

During phases 2 and 3 a thread polls ``GET /_mock/stats`` (the control plane, behind its admin token, must
answer) and another samples the server's RSS. The last line ends with served/offered of phase 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._wrk import WrkResult, run_wrk, start_server
from bench.mock_throughput import HIGH_LIMITS, PNID, TEXT

ADMIN = {"Authorization": "Bearer mock-admin-token"}


def serve(port: int) -> None:
    from mocks.whatsapp.config import MockConfig
    from mocks.whatsapp.sharding import serve_single

    config = MockConfig.model_validate({**HIGH_LIMITS, "port": port, "max_in_flight": 64})
    serve_single(config, plugins=[])


class Watch:
    """Polls the control plane and samples RSS while a phase runs."""

    def __init__(self, base: str, pid: int) -> None:
        self.base, self.process = base, psutil.Process(pid)
        self.peak_rss = self.process.memory_info().rss
        self.health: list[tuple[int, float]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._rss), threading.Thread(target=self._control)]

    def _rss(self) -> None:
        while not self._stop.wait(0.05):
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)

    def _control(self) -> None:
        with httpx.Client(timeout=10.0) as client:
            while not self._stop.wait(0.2):
                start = time.perf_counter()
                try:
                    status = client.get(f"{self.base}/_mock/stats", headers=ADMIN).status_code
                except httpx.HTTPError:
                    status = 0
                self.health.append((status, (time.perf_counter() - start) * 1000))

    def __enter__(self) -> Watch:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def _send(url: str, seconds: float, connections: int) -> WrkResult:
    headers = {"Authorization": "Bearer mock-access-token", "Content-Type": "application/json"}
    return run_wrk(url, method="POST", body=TEXT, headers=headers, seconds=seconds, connections=connections)


RECOVERY_LIMIT_S = 5.0


def _recovery(send_url: str) -> tuple[httpx.Response, float, float | None]:
    """The first send after the load (and its time), and ms until a send is accepted (None: not within 5 s)."""
    headers = {"Authorization": "Bearer mock-access-token"}
    start = time.perf_counter()
    with httpx.Client(timeout=10.0) as client:
        first = client.post(send_url, content=TEXT, headers=headers)
        first_ms = (time.perf_counter() - start) * 1000
        answer = first
        for _ in range(500):  # bounded: at most 500 tries and RECOVERY_LIMIT_S seconds
            if answer.status_code == 200:
                return first, first_ms, (time.perf_counter() - start) * 1000
            if time.perf_counter() - start > RECOVERY_LIMIT_S:
                break
            time.sleep(0.01)  # a steady, light probe rate; not pacing any measured load
            answer = client.post(send_url, content=TEXT, headers=headers)
    return first, first_ms, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=4.0, help="Length of each measured phase.")
    parser.add_argument("--quick", action="store_true", help="One-second phases (CI): the same checks, rougher.")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if args.quick:
        args.seconds = 1.0
    warm_up_s, calibrate_s = (1.0, 1.0) if args.quick else (1.0, 2.0)  # wrk runs whole seconds
    process, port = start_server([], "mock_overload.py")
    base = f"http://127.0.0.1:{port}"
    send_url = f"{base}/v22.0/{PNID}/messages"
    try:
        _send(send_url, warm_up_s, 32)  # warm-up
        capacity = _send(send_url, args.seconds, 32)
        limit = max(capacity.requests_per_s / 10, 1.0)
        httpx.patch(f"{base}/_mock/limits", json={"throughput_per_second": limit}, headers=ADMIN).raise_for_status()
        # Rejections cost almost what sends cost, so the offered rate under limit differs from capacity: calibrate
        # the limit to a tenth of the rate actually offered, so the measured phase is 10x what it may serve.
        limit = max(_send(send_url, calibrate_s, 32).requests_per_s / 10, 1.0)
        # A small bucket, so the served count is the rate times the time, not inflated by a full second's burst.
        small = {"throughput_per_second": limit, "throughput_burst": max(limit / 20, 1.0)}
        httpx.patch(f"{base}/_mock/limits", json=small, headers=ADMIN).raise_for_status()
        before = httpx.get(f"{base}/_mock/stats", headers=ADMIN).json()
        with Watch(base, process.pid) as limited_watch:
            limited = _send(send_url, args.seconds, 32)
        after = httpx.get(f"{base}/_mock/stats", headers=ADMIN).json()
        served = after["accepted"] - before["accepted"]
        high = {**HIGH_LIMITS["limits"], "throughput_burst": None}
        httpx.patch(f"{base}/_mock/limits", json=high, headers=ADMIN).raise_for_status()
        # A slowed mock (200 ms injected latency) under 512 connections: requests pile up past max_in_flight (64)
        # and the excess must be shed at once instead of queueing without bound.
        slow = {"kind": "latency", "ms": 200, "route": "messages"}
        httpx.post(f"{base}/_mock/faults", json=slow, headers=ADMIN).raise_for_status()
        with Watch(base, process.pid) as flood_watch:
            flood = _send(send_url, args.seconds, 512)
        httpx.delete(f"{base}/_mock/faults", headers=ADMIN).raise_for_status()
        shed = httpx.get(f"{base}/_mock/stats", headers=ADMIN).json()["shed"]
        first, first_ms, accepted_ms = _recovery(send_url)
        body = json.loads(first.content)
    finally:
        process.stop()
    offered = limited.requests
    control = limited_watch.health + flood_watch.health
    worst_ms = max((ms for _, ms in control), default=0.0)
    control_ok = all(status == 200 for status, _ in control) and bool(control)
    print(f"capacity: {capacity.requests_per_s:.0f} sends/s; limit set to {limit:.0f}/s for the 10x phase")
    print(
        f"10x phase: offered {offered} ({offered / args.seconds:.0f}/s against a limit of {limit:.0f}/s), "
        f"served {served}, the rest 130429 (p99 {limited.p99_ms:.1f} ms)"
    )
    print(
        f"slowed mock, 512 connections: {flood.requests} answered, {shed} shed at once with 503, "
        f"socket errors {flood.errors}, p99 {flood.p99_ms:.0f} ms"
    )
    print(f"control plane during overload: {len(control)} polls, all 200: {control_ok}, slowest {worst_ms:.0f} ms")
    print(
        f"recovery: first send after the load -> HTTP {first.status_code} in {first_ms:.1f} ms ({next(iter(body))}); "
        + (
            f"first accepted send {accepted_ms:.0f} ms after the load"
            if accepted_ms is not None
            else f"no send accepted within {RECOVERY_LIMIT_S:g} s"
        )
    )
    print(
        f"peak RSS {max(limited_watch.peak_rss, flood_watch.peak_rss) / 2**20:.1f} MB; "
        f"served/offered {served / max(offered, 1):.3f}"
    )


if __name__ == "__main__":
    main()
