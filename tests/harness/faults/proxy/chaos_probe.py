"""A Chaos Toolkit probe for test_toxiproxy_clients.py: the time of one HTTP GET through the proxy (loopback)."""

from __future__ import annotations

import time

import httpx


def round_trip_ms(url: str) -> float:
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError(f"this probe only talks to loopback, got {url}")
    started = time.perf_counter()
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        client.get(url).raise_for_status()
    return (time.perf_counter() - started) * 1_000.0
