"""The seam between the dispatcher and the network: one POST, classified the way the attempt log needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx


@dataclass(frozen=True, slots=True)
class PostResult:
    status: int  # 0 when no answer
    outcome: str  # ok | http_error | timeout | connect_error
    error: str = ""


class WebhookTransport(Protocol):
    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> PostResult: ...

    async def aclose(self) -> None: ...


class HttpxTransport:
    """Pooled HTTP/1.1 keep-alive connections, as many as the dispatcher has workers."""

    def __init__(self, max_connections: int) -> None:
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        # trust_env=False: a developer's proxy settings must never route webhooks off the machine.
        self.client = httpx.AsyncClient(limits=limits, trust_env=False, follow_redirects=False)

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> PostResult:
        try:
            response = await self.client.post(url, content=body, headers=headers, timeout=timeout_s)
            await response.aread()
        except httpx.TimeoutException as exc:
            return PostResult(0, "timeout", type(exc).__name__)
        except httpx.HTTPError as exc:
            return PostResult(0, "connect_error", f"{type(exc).__name__}: {exc}"[:300])
        status = response.status_code
        # Meta counts only 200 as success; any other answer, 2xx included, is retried.
        return PostResult(status, "ok" if status == 200 else "http_error")

    async def aclose(self) -> None:
        await self.client.aclose()
