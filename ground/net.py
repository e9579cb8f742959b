"""Loopback helpers and the target allowlist (design.md, Safety).

A load harness is a weapon pointed at someone's server: loopback is always allowed, anything else must be on
the profile's allowlist *and* the user must confirm they own it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from ground.errors import TargetRefused

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def host_of(url: str, *, field: str = "base_url", source: str | None = None) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        raise TargetRefused(
            "not an absolute URL", source=source, field=field, value=url, fix="write it as http://127.0.0.1:PORT"
        )
    return parts.hostname.lower()


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target(
    url: str,
    allowed: Iterable[str] = (),
    *,
    owner_confirmed: bool = False,
    field: str = "base_url",
    source: str | None = None,
    fix: str | None = None,
) -> None:
    """Refuse ``url`` unless it is loopback, or allowlisted and confirmed by the user.

    ``field`` and ``source`` name where the URL came from (``capabilities.mock_url`` in a profile, ``--whatsapp-url``
    on a command line); ``fix`` replaces the allowlist advice where there is no allowlist (a server's option)."""
    host = host_of(url, field=field, source=source)
    if is_loopback(host):
        return
    allowed_hosts = {item.strip().lower() for item in allowed}
    if host not in allowed_hosts:
        raise TargetRefused(
            f"target host {host!r} is not loopback and not in the profile's allowed_targets"
            if fix is None
            else f"target host {host!r} is not loopback",
            source=source,
            field=field,
            value=url,
            fix=fix or f"add '{host}' to allowed_targets in the vendor profile and pass --i-own-this-target",
        )
    if not owner_confirmed:
        raise TargetRefused(
            f"target host {host!r} is allowlisted but the run was not confirmed",
            source=source,
            field=field,
            value=url,
            fix="pass --i-own-this-target to confirm you own or may load-test this system",
        )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_port_run(count: int, host: str = "127.0.0.1", *, attempts: int = 50) -> int:
    """The first of ``count`` consecutive TCP ports that were all free a moment ago (a sharded mock's ports)."""
    for _ in range(attempts):
        base = free_port(host)
        if base + count - 1 > 65_535:
            continue
        try:
            for port in range(base + 1, base + count):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                    sock.bind((host, port))
        except OSError:
            continue
        return base
    raise OSError(f"no run of {count} free consecutive ports found on {host} in {attempts} attempts")


MAX_PORT = 65_535


def port_parser(minimum: int = 1) -> Callable[[str], int]:
    """A CLI option's parser (typer's ``parser=``): a TCP port from ``minimum`` to 65535 (``minimum`` 0 lets the
    OS pick a free one). Its ``ValueError`` becomes the CLI's usage error naming the option, the value and the
    range (exit 2): a port out of range is never handed to the resolver, which would bind another one silently
    (``getaddrinfo`` maps 99999 to 34463 and 65536 to 0)."""

    def parse(text: str) -> int:
        try:
            port = int(text)
        except ValueError:
            port = -1
        if not minimum <= port <= MAX_PORT:
            raise ValueError(f"{text!r} is not a TCP port: use a whole number from {minimum} to {MAX_PORT}")
        return port

    return parse
