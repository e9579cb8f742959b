"""The chaos proxy: named TCP proxies with stacked toxics, enable/disable ("down"), and a collection of them.

A :class:`ChaosProxy` listens on a loopback address and relays each connection to its upstream through a
:class:`~harness.faults.proxy.link.Link`. Disabling it closes the listener (new connections are refused by the
kernel) and drops the open ones: the closest thing to "the vendor is down", as Toxiproxy's ``enabled: false``.
Randomness (toxicity draws, jitter, slicer sizes) comes from one ``random.Random(seed)`` per proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any

from pydantic import ValidationError

from ground.errors import ConfigError
from ground.net import check_target, is_loopback
from harness.faults.proxy.errors import (
    BAD_TOXIC,
    PROXY_EXISTS,
    PROXY_NOT_FOUND,
    TOXIC_EXISTS,
    TOXIC_NOT_FOUND,
    UPSTREAM_REFUSED,
    ApiError,
)
from harness.faults.proxy.link import Link
from harness.faults.proxy.toxics import TOXICS, Stream, Toxic, ToxicContext, ToxicSpec, build_toxic
from harness.faults.proxy.toxics.base import ActiveToxic, LinkHandle

log = logging.getLogger(__name__)


def split_address(address: str, *, what: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ConfigError("not a host:port address", field=what, value=address, fix="write it as 127.0.0.1:PORT")
    return host.strip("[]"), int(port)


class ChaosProxy:
    def __init__(
        self,
        name: str,
        listen: str,
        upstream: str,
        *,
        enabled: bool = True,
        seed: int | str | None = None,
        allowed_upstreams: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.listen_host, self.listen_port = split_address(listen, what="listen")
        if not is_loopback(self.listen_host):
            raise ConfigError(
                "the proxy only listens on loopback", field="listen", value=listen, fix="use 127.0.0.1:PORT"
            )
        self.upstream = upstream
        self.upstream_host, self.upstream_port = split_address(upstream, what="upstream")
        check_target(f"tcp://{self.upstream_host}:{self.upstream_port}", allowed_upstreams, owner_confirmed=True)
        self.enabled = enabled
        self.rng = random.Random(seed)
        self._toxics: dict[Stream, tuple[ActiveToxic, ...]] = {"upstream": (), "downstream": ()}
        self._links: set[Link] = set()
        self._link_tasks: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None

    @property
    def listen(self) -> str:
        return f"{self.listen_host}:{self.listen_port}"

    # -- lifecycle ----------------------------------------------------------------------------------------------

    async def start(self) -> ChaosProxy:
        if self.enabled and self._server is None:
            self._server = await asyncio.start_server(self._on_client, self.listen_host, self.listen_port)
            # Port 0 means "pick one" (as in Toxiproxy); report the real one from now on.
            self.listen_port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for link in list(self._links):
            link.close("proxy stopped")
        if self._link_tasks:
            # Bounded: a link's close path only cancels tasks and closes sockets.
            await asyncio.wait(list(self._link_tasks), timeout=5)

    async def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        if enabled:
            await self.start()
        else:
            await self.stop()

    async def _on_client(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream = await asyncio.wait_for(asyncio.open_connection(self.upstream_host, self.upstream_port), 10)
        except (OSError, TimeoutError) as exc:
            log.info("proxy %s: upstream %s unreachable (%s); closing the client", self.name, self.upstream, exc)
            client_writer.close()
            return
        link = Link((client_reader, client_writer), upstream, self.toxics_for, self._context)
        self._links.add(link)
        task = asyncio.current_task()
        if task is not None:
            self._link_tasks.add(task)
        try:
            for stream in ("upstream", "downstream"):
                for active in self._toxics[stream]:
                    link.attach(active)
            await link.run()
        finally:
            self._links.discard(link)
            self._link_tasks.discard(task)

    def _context(self, active: ActiveToxic, link: LinkHandle) -> ToxicContext:
        rng = random.Random(self.rng.random())
        applies = active.spec.toxicity >= 1.0 or rng.random() < active.spec.toxicity
        return ToxicContext(link=link, rng=rng, applies=applies)

    # -- toxics -------------------------------------------------------------------------------------------------

    def toxics_for(self, stream: Stream) -> tuple[ActiveToxic, ...]:
        return self._toxics[stream]

    def toxics(self) -> list[ToxicSpec]:
        return [active.spec for stream in ("upstream", "downstream") for active in self._toxics[stream]]

    def _find(self, name: str) -> ActiveToxic | None:
        for stream in ("upstream", "downstream"):
            for active in self._toxics[stream]:
                if active.spec.name == name:
                    return active
        return None

    def add_toxic(self, spec: ToxicSpec) -> ToxicSpec:
        spec = spec.with_default_name()
        if self._find(spec.name) is not None:
            raise TOXIC_EXISTS.with_detail(f"toxic {spec.name!r} already exists on proxy {self.name!r}")
        active = ActiveToxic(spec, _build(spec))
        # Copy-on-write: pumps read the tuple per chunk without a lock.
        self._toxics[spec.stream] = (*self._toxics[spec.stream], active)
        for link in list(self._links):
            link.attach(active)
        return spec

    def update_toxic(self, name: str, changes: dict[str, Any]) -> ToxicSpec:
        old = self._find(name)
        if old is None:
            raise TOXIC_NOT_FOUND.with_detail(f"no toxic {name!r} on proxy {self.name!r}")
        merged = old.spec.model_dump()
        merged["attributes"] = {**old.spec.attributes, **changes.get("attributes", {})}
        if "toxicity" in changes:
            merged["toxicity"] = changes["toxicity"]
        try:
            spec = ToxicSpec.model_validate(merged)
        except ValidationError as exc:
            raise BAD_TOXIC.with_detail(str(exc.errors()[0]["msg"])) from None
        self.remove_toxic(name)
        return self.add_toxic(spec)

    def remove_toxic(self, name: str) -> None:
        active = self._find(name)
        if active is None:
            raise TOXIC_NOT_FOUND.with_detail(f"no toxic {name!r} on proxy {self.name!r}")
        stream = active.spec.stream
        self._toxics[stream] = tuple(a for a in self._toxics[stream] if a is not active)
        for link in list(self._links):
            link.detach(active)

    def remove_all_toxics(self) -> None:
        for spec in self.toxics():
            self.remove_toxic(spec.name)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "connections": len(self._links),
            "toxics": [spec.model_dump() for spec in self.toxics()],
        }


def _build(spec: ToxicSpec) -> Toxic:
    if spec.type not in TOXICS:
        raise BAD_TOXIC.with_detail(f"unknown toxic type {spec.type!r}; known: {', '.join(sorted(TOXICS))}")
    try:
        return build_toxic(spec)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise BAD_TOXIC.with_detail(f"toxic {spec.type!r} attribute {field!r}: {first['msg']}") from None


class ProxyCollection:
    """All proxies of one server, by name (Toxiproxy's ``ProxyCollection``)."""

    def __init__(self, *, seed: int | None = None, allowed_upstreams: tuple[str, ...] = ()) -> None:
        self.proxies: dict[str, ChaosProxy] = {}
        self.seed = seed
        self.allowed_upstreams = allowed_upstreams

    def get(self, name: str) -> ChaosProxy:
        try:
            return self.proxies[name]
        except KeyError:
            raise PROXY_NOT_FOUND.with_detail(f"no proxy named {name!r}") from None

    async def create(self, name: str, listen: str, upstream: str, *, enabled: bool = True) -> ChaosProxy:
        if name in self.proxies:
            raise PROXY_EXISTS.with_detail(f"proxy {name!r} already exists")
        # A string seed is hashed deterministically by random.Random (unlike hash(), which varies per process).
        seed = None if self.seed is None else f"{self.seed}:{name}"
        try:
            proxy = ChaosProxy(
                name, listen, upstream, enabled=enabled, seed=seed, allowed_upstreams=self.allowed_upstreams
            )
            await proxy.start()
        except ConfigError as exc:
            raise UPSTREAM_REFUSED.with_detail(str(exc)) from None
        except OSError as exc:
            raise ApiError(f"cannot listen on {listen}: {exc.strerror or exc}", 409) from None
        self.proxies[name] = proxy
        return proxy

    async def delete(self, name: str) -> None:
        proxy = self.get(name)
        await proxy.stop()
        del self.proxies[name]

    async def reset(self) -> None:
        """Re-enable every proxy and remove every toxic (Toxiproxy ``POST /reset``)."""
        for proxy in self.proxies.values():
            proxy.remove_all_toxics()
            await proxy.set_enabled(True)

    async def close(self) -> None:
        for name in list(self.proxies):
            with contextlib.suppress(ApiError):
                await self.delete(name)
