"""The seam between the dispatcher and the network: one POST, classified the way the attempt log needs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from mocks.whatsapp.webhooks.config import WebhookConfig


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


class RawHttpTransport:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams, for plain-http receivers (the usual loopback case).

    Webhook POSTs are the mock's hottest path (three status webhooks per outbound message), and a general client
    spends most of its time in pooling and header models; this writes one request head and reads the status,
    the headers and a Content-Length or chunked body, nothing more. Each worker task holds at most one
    connection at a time, so ``workers`` bounds the connections. ``https`` URLs go through httpx instead.
    """

    def __init__(self, max_connections: int) -> None:
        self._max_idle = max_connections
        self._idle: dict[tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
        self._targets: dict[str, tuple[str, int, bytes] | None] = {}
        self._fallback: HttpxTransport | None = None
        self._fallback_size = max_connections

    def _target(self, url: str) -> tuple[str, int, bytes] | None:
        if url not in self._targets:
            parts = urlsplit(url)
            if parts.scheme != "http" or not parts.hostname:
                self._targets[url] = None
            else:
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                netloc = parts.netloc.rsplit("@", 1)[-1]
                head = f"POST {path} HTTP/1.1\r\nHost: {netloc}\r\n".encode("ascii")
                self._targets[url] = (parts.hostname, parts.port or 80, head)
        return self._targets[url]

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> PostResult:
        target = self._target(url)
        if target is None:
            if self._fallback is None:
                self._fallback = HttpxTransport(self._fallback_size)
            return await self._fallback.post(url, body, headers, timeout_s)
        host, port, head = target
        lines = [head, *(f"{name}: {value}\r\n".encode("latin-1") for name, value in headers.items())]
        lines += [f"Content-Length: {len(body)}\r\n\r\n".encode("ascii"), body]
        request = b"".join(lines)
        try:
            async with asyncio.timeout(timeout_s):
                status = await self._exchange((host, port), request)
        except TimeoutError:
            return PostResult(0, "timeout", "ReadTimeout")
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            return PostResult(0, "connect_error", f"{type(exc).__name__}: {exc}"[:300])
        return PostResult(status, "ok" if status == 200 else "http_error")

    async def _exchange(self, key: tuple[str, int], request: bytes) -> int:
        idle = self._idle.setdefault(key, [])
        while True:
            reused = bool(idle)
            reader, writer = idle.pop() if reused else await asyncio.open_connection(*key)
            done = False
            try:
                writer.write(request)
                await writer.drain()
                status, keep_alive = await _read_response(reader)
                done = True
            except (ConnectionError, asyncio.IncompleteReadError):
                if reused:
                    continue  # the receiver closed an idle keep-alive connection: once more on a fresh one
                raise
            finally:
                if not done:
                    writer.close()
            if keep_alive and len(idle) < self._max_idle:
                idle.append((reader, writer))
            else:
                writer.close()
            return status

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for _, writer in connections:
                writer.close()
        self._idle.clear()
        if self._fallback is not None:
            await self._fallback.aclose()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; returns (status, whether the connection may be reused)."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        version, status_text = lines[0].split(b" ", 2)[:2]
        status = int(status_text)
        fields: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if sep:
                fields[name.strip().lower()] = value.strip().lower()
        if not 100 <= status < 200:
            break  # skip interim responses (100 Continue)
    keep_alive = fields.get(b"connection", b"") != b"close" and version == b"HTTP/1.1"
    if status in (204, 304):
        return status, keep_alive
    if b"chunked" in fields.get(b"transfer-encoding", b""):
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                return status, keep_alive
            await reader.readexactly(size + 2)
    if b"content-length" in fields:
        await reader.readexactly(int(fields[b"content-length"]))
        return status, keep_alive
    await reader.read()  # no length given: the body runs to the end of the connection
    return status, False


def make_transport(config: WebhookConfig) -> WebhookTransport:
    if config.transport == "httpx":
        return HttpxTransport(config.workers)
    return RawHttpTransport(config.workers)
