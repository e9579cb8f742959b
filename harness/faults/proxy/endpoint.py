"""Put a chaos proxy in front of a candidate's base URL, so ``proxy-*`` faults (and a proxy ``failover``) can hit it.

    with proxy_in_front("http://127.0.0.1:8910", name="vendor", seed=1) as endpoint:
        adapter_base_url = endpoint.base_url                 # send the load here
        targets = FaultTargets(proxies={"vendor": endpoint.target})

The proxy runs in this process (:class:`ProxyServer`, its own thread and loop) on a free loopback port; the
URL keeps the candidate's scheme and path, only host and port change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ground.errors import ConfigError
from ground.net import free_port
from harness.faults.proxy.control import ProxyServer, ProxyTarget


@dataclass
class ProxiedEndpoint:
    server: ProxyServer
    base_url: str
    target: ProxyTarget


@contextmanager
def proxy_in_front(
    base_url: str, *, name: str = "vendor", seed: int | None = None, allowed_upstreams: tuple[str, ...] = ()
) -> Iterator[ProxiedEndpoint]:
    parts = urlsplit(base_url)
    if not parts.hostname:
        raise ConfigError("not an absolute URL", field="base_url", value=base_url, fix="write http://HOST:PORT")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    listen_port = free_port()
    with ProxyServer(seed=seed, allowed_upstreams=allowed_upstreams) as server:
        server.create_proxy(name, f"127.0.0.1:{listen_port}", f"{parts.hostname}:{port}")
        url = urlunsplit((parts.scheme, f"127.0.0.1:{listen_port}", parts.path, parts.query, parts.fragment))
        yield ProxiedEndpoint(server, url, ProxyTarget(server, name))
