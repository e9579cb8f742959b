"""Helpers for end-to-end tests: real vendor processes talking to the real mock WhatsApp API."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from ground.correlation import make_token
from tests.fixtures.vendors import VENDOR_API_HEADERS
from tests.mocks.vendors.conftest import wait_until

RUN_TAG = "vend01"


def ledger(mock_server: Any) -> list[dict[str, Any]]:
    response = httpx.get(f"{mock_server.base_url}/_mock/ledger", headers=mock_server.admin_headers, timeout=10)
    response.raise_for_status()
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def ledger_tokens(mock_server: Any) -> list[str]:
    return [row["correlation_id"] for row in ledger(mock_server) if row.get("correlation_id")]


def stats(base_url: str) -> dict[str, Any]:
    return httpx.get(f"{base_url}/_vendor/stats", headers=VENDOR_API_HEADERS, timeout=10).json()  # type: ignore[no-any-return]


def send_texts(base_url: str, count: int, *, first: int = 0, worker: int = 0) -> dict[str, str]:
    """Send ``count`` texts to distinct recipients; token → vendor message id of every acknowledged one."""
    acked: dict[str, str] = {}
    with httpx.Client(base_url=base_url, headers=VENDOR_API_HEADERS, timeout=10) as client:
        for seq in range(first, first + count):
            token = make_token(RUN_TAG, worker, seq)
            response = client.post("/api/messages", json={"to": f"49170{seq:07d}", "text": f"hello {token}"})
            if response.status_code == 202:
                acked[token] = response.json()["id"]
    return acked


def drained(base_url: str) -> bool:
    """Every accepted job has left the vendor's queue (sent, failed or dropped)."""
    out = stats(base_url)["outbound"]
    return bool(out["queue_depth"] == 0 and out["sent"] + out["failed"] + out["dropped"] >= out["accepted"])


def wait_ledger(mock_server: Any, expected: set[str], timeout: float = 30.0) -> list[str]:
    return wait_until(  # type: ignore[no-any-return]
        lambda: expected <= set(tokens := ledger_tokens(mock_server)) and tokens, timeout, "tokens in the ledger"
    )


def post_until_accepted(base_url: str, token: str, seq: int, timeout: float = 30.0) -> tuple[str, list[int]]:
    """Retry one send through a front until it is accepted (as a client would); the statuses seen on the way."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, headers=VENDOR_API_HEADERS, timeout=5) as client:
        while time.monotonic() < deadline:
            try:
                response = client.post("/api/messages", json={"to": f"49171{seq:07d}", "text": f"after {token}"})
            except httpx.HTTPError:
                seen.append(0)
            else:
                seen.append(response.status_code)
                if response.status_code == 202:
                    return response.json()["id"], seen
            time.sleep(0.05)  # a client's retry pause against a real process
    raise AssertionError(f"send of {token} never accepted; statuses {seen[-10:]}")
