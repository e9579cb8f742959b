"""Send adapter requests under load over one shared keep-alive connection pool per host (geventhttpclient).

The load users of a Locust process share one ``PooledExecutor``. Each request is timed here and reported to
``events.request`` with the same fields the other executors report (``executors.ReportingExecutor``), so Locust's
statistics and the recorder see it exactly as before.

Why not each user's ``FastHttpSession``: profiled under the open model (py-spy on the calibration staircase,
December 2026), a FastHttpSession request cost about 210 µs of the generator's CPU against 75 µs for the same
exchange through geventhttpclient's ``HTTPClient``: the session parses and rebuilds the URL, copies headers, keeps
a cookie jar (cleared of expired cookies on every request), wraps the answer for ``catch_response`` and, with one
session per user, checks one rarely used socket per request out of a pool of thousands. The generator's CPU is the
load it can offer and the noise it adds, so the hot path takes the cheaper client:

- one ``HTTPClient`` per (scheme, host, port), its pool sized to the users of the process (``concurrency``), so no
  request ever waits for a socket the harness failed to provide: harness-side queueing would be blamed on the
  vendor by the corrected latency;
- no cookies: the candidates are APIs called server to server, which keep no session in cookies;
- redirects are never followed (``HTTPClient`` has no redirect logic): a 3xx is the vendor's answer
  (``base.interpret_answer``), so the load never reaches a host the target check did not allow;
- TLS as Locust's FastHttpUser does it (its ``insecure`` default): a vendor's staging certificate is accepted;
- the whole exchange (connect, send, read the body) runs under a ``gevent.Timeout`` of the operation's timeout;
  when it fires the request is recorded as ``timeout`` at about that time (it may have been sent).

Import this module only where gevent patches the standard library (inside Locust).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from http.client import HTTPException
from typing import Any
from urllib.parse import urlsplit

import gevent
import gevent.ssl
from geventhttpclient import HTTPClient

from ground.net import check_target
from harness.adapters.base import Adapter, HttpRequest, HttpResponse, Outcome, TransportFailure
from harness.adapters.executors import ReportingExecutor, RequestHook

CONNECT_TIMEOUT_S = 10.0  # per connection attempt; the operation's own timeout bounds the whole exchange
NETWORK_TIMEOUT_S = 60.0  # per socket operation (Locust's FastHttpUser default); the operation's timeout is tighter


class PooledExecutor(ReportingExecutor):
    """``PooledExecutor(events.request, base_url=..., concurrency=pool_size)``, shared by a process's users."""

    def __init__(
        self,
        request_hook: RequestHook | None,
        *,
        base_url: str,
        allowed_targets: tuple[str, ...] | list[str] = (),
        owner_confirmed: bool = False,
        concurrency: int = 1,
        routes: Mapping[str, str] | None = None,
    ) -> None:
        check_target(base_url, allowed_targets, owner_confirmed=owner_confirmed)
        for route in (routes or {}).values():
            check_target(route, allowed_targets, owner_confirmed=owner_confirmed)
        super().__init__(base_url, request_hook)
        if concurrency < 1:
            raise ValueError(f"concurrency must be 1 or more, not {concurrency}")
        self.allowed_targets = tuple(allowed_targets)
        self.owner_confirmed = owner_confirmed
        self.concurrency = concurrency
        self._clients: dict[tuple[str, str, int], HTTPClient] = {}
        self._base: tuple[HTTPClient, str] | None = None  # the vendor's client and its path prefix, looked up once
        # A sharded mock as the target: the path's phone number id (Meta's /{version}/{id}/...) → its shard's URL.
        self.routes = dict(routes or {})
        self._routed: dict[str, tuple[HTTPClient, str]] = {}

    def client_for(self, url: str) -> tuple[HTTPClient, str]:
        """The pooled client for ``url``'s origin (checked against the allowlist once) and the path to request."""
        parts = urlsplit(url)
        https = parts.scheme == "https"
        key = (parts.scheme, parts.hostname or "", parts.port or (443 if https else 80))
        client = self._clients.get(key)
        if client is None:
            check_target(url, self.allowed_targets, owner_confirmed=self.owner_confirmed)
            client = HTTPClient(
                key[1],
                port=key[2],
                ssl=https,
                ssl_context_factory=_unverified_context if https else None,
                concurrency=self.concurrency,
                connection_timeout=CONNECT_TIMEOUT_S,
                network_timeout=NETWORK_TIMEOUT_S,
            )
            self._clients[key] = client
        path = parts.path or "/"
        return client, f"{path}?{parts.query}" if parts.query else path

    def exchange(
        self, method: str, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> HttpResponse | TransportFailure:
        """One request to ``url`` and its whole answer, or why there was none; never raises for the network."""
        client, path = self.client_for(url)
        return _exchange(client, method, path, body, headers, timeout)

    def execute(self, adapter: Adapter, request: HttpRequest, context: Mapping[str, Any] | None = None) -> Outcome:
        started_at, start = time.time(), time.perf_counter()
        if self._base is None:
            self._base = self.client_for(self.base_url + "/")
        client, root = self._route(request.path, self._base) if self.routes else self._base
        answer = _exchange(client, request.method, root + request.path.lstrip("/"), request.body, request.headers,
                           request.timeout)  # fmt: skip
        if isinstance(answer, TransportFailure) and answer.kind == "timeout":
            answer = TransportFailure(
                "timeout",
                f"no complete answer within {request.timeout:g} s (the profile's timeout for {request.operation})",
                maybe_sent=True,
            )
        return self._finish(adapter, request, answer, started_at, (time.perf_counter() - start) * 1000, context)

    def _route(self, path: str, base: tuple[HTTPClient, str]) -> tuple[HTTPClient, str]:
        """The client of the shard that owns the path's phone number id; ``base`` for any other path."""
        parts = path.split("/", 3)
        shard = self.routes.get(parts[2]) if len(parts) > 3 else None
        if shard is None:
            return base
        routed = self._routed.get(shard)
        if routed is None:
            routed = self._routed[shard] = self.client_for(shard + "/")
        return routed

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        self._routed.clear()
        self._base = None


def _exchange(
    client: HTTPClient, method: str, path: str, body: bytes, headers: Mapping[str, str], timeout: float
) -> HttpResponse | TransportFailure:
    timer = gevent.Timeout(timeout)
    timer.start()
    try:
        response = client.request(method, path, body=body, headers=headers)
        try:
            content = response.read()
        finally:
            response.release()
        return HttpResponse(response.status_code, content, dict(response.items()))
    except gevent.Timeout as exc:
        if exc is not timer:
            raise
        return TransportFailure("timeout", f"no complete answer within {timeout:g} s", maybe_sent=True)
    except (OSError, ValueError, RuntimeError, HTTPException) as exc:  # refused, reset, a malformed answer
        return transport_failure(exc)
    finally:
        timer.close()


def _unverified_context() -> gevent.ssl.SSLContext:
    """Like Locust's FastHttpUser (``insecure=True``): a vendor's staging certificate is accepted."""
    context = gevent.ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = gevent.ssl.CERT_NONE
    return context


def transport_failure(error: BaseException) -> TransportFailure:
    """Refused (never reached the vendor), timed out, or broken after connecting (may have been sent)."""
    detail = f"{type(error).__name__}: {error}"
    if isinstance(error, ConnectionRefusedError | socket.gaierror):
        return TransportFailure("transport", detail, maybe_sent=False)
    if isinstance(error, TimeoutError | socket.timeout):
        return TransportFailure("timeout", detail, maybe_sent=True)
    return TransportFailure("transport", detail, maybe_sent=True)
