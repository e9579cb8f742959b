"""The seam between proxy faults and a chaos proxy: :class:`ProxyControl`, with two implementations.

- :class:`~harness.faults.proxy.client.ProxyClient`: the HTTP control API (a ``scrmbench proxy serve`` process).
- :class:`ProxyServer` here: proxies in this process, on their own event loop in a background thread, with the
  control API optionally served too. Its calls hop onto that loop and wait with a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, TypeVar

import uvicorn

from ground.errors import FaultError, HarnessError
from harness.faults.proxy.api import create_api_app
from harness.faults.proxy.errors import ApiError
from harness.faults.proxy.loop import run
from harness.faults.proxy.server import ProxyCollection
from harness.faults.proxy.toxics import ToxicSpec

T = TypeVar("T")


class ProxyControl(Protocol):
    def add_toxic(self, proxy: str, toxic: dict[str, Any]) -> dict[str, Any]:
        """Add a toxic ``{name, type, stream, toxicity, attributes}``; return it as stored."""

    def remove_toxic(self, proxy: str, toxic: str, *, missing_ok: bool = False) -> None: ...

    def set_enabled(self, proxy: str, enabled: bool) -> None: ...


@dataclass
class ProxyTarget:
    """One proxy on a chaos proxy server, reached through a :class:`ProxyControl` (HTTP client or in-process):
    what a ``proxy-*`` fault hits (``harness.faults.base.FaultTargets.proxies``)."""

    control: ProxyControl
    proxy: str


class ProxyServer:
    """Chaos proxies (and optionally their control API) in a background thread of this process."""

    def __init__(
        self,
        *,
        seed: int | None = None,
        api_port: int | None = None,
        api_host: str = "127.0.0.1",
        timeout_s: float = 10.0,
        allowed_upstreams: tuple[str, ...] = (),
    ) -> None:
        self.collection = ProxyCollection(seed=seed, allowed_upstreams=allowed_upstreams)
        self.api_port = api_port
        self.api_host = api_host
        self.timeout_s = timeout_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._api: uvicorn.Server | None = None
        self._stopped: asyncio.Event | None = None
        self._api_socket: socket.socket | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="scrmbench-proxy", daemon=True)

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def start(self) -> ProxyServer:
        if self.api_port is not None:
            # Bound here, not by uvicorn: a taken port is then a clear error (uvicorn would sys.exit in the thread).
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.api_host, self.api_port))
            except OSError as exc:
                sock.close()
                raise HarnessError(
                    f"the chaos proxy API could not listen on {self.api_host}:{self.api_port} ({exc.strerror})"
                ) from None
            self.api_port = sock.getsockname()[1]
            self._api_socket = sock
        self._thread.start()
        if not self._ready.wait(self.timeout_s):
            raise HarnessError(f"the in-process chaos proxy did not start within {self.timeout_s:g} s")
        if self._api is not None and not self._api.started:
            self.stop()
            raise HarnessError(f"the chaos proxy API did not start on {self.api_host}:{self.api_port}")
        return self

    def _main(self) -> None:
        run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        api_task = None
        if self.api_port is not None:
            config = uvicorn.Config(
                create_api_app(self.collection), host=self.api_host, port=self.api_port, log_level="warning"
            )
            self._api = uvicorn.Server(config)
            sockets = [self._api_socket] if self._api_socket is not None else None
            api_task = asyncio.create_task(self._api.serve(sockets=sockets))
            while not self._api.started and not api_task.done():
                await asyncio.sleep(0.01)  # uvicorn exposes readiness only as a flag
        self._ready.set()
        await self._stopped.wait()
        if self._api is not None and api_task is not None:
            self._api.should_exit = True
            await api_task
        await self.collection.close()

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(self.timeout_s)

    def __enter__(self) -> ProxyServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the proxy loop and wait for it, bounded by the control timeout."""
        if self._loop is None:
            coro.close()
            raise HarnessError("the in-process chaos proxy is not running; call start() first")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(self.timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise FaultError(f"the chaos proxy did not answer within {self.timeout_s:g} s") from None
        except ApiError as exc:
            raise FaultError(f"chaos proxy: {exc.message}") from None

    # -- ProxyControl -------------------------------------------------------------------------------------------

    def create_proxy(self, name: str, listen: str, upstream: str) -> dict[str, Any]:
        async def create() -> dict[str, Any]:
            return (await self.collection.create(name, listen, upstream)).to_json()

        return self.call(create())

    def add_toxic(self, proxy: str, toxic: dict[str, Any]) -> dict[str, Any]:
        async def add() -> dict[str, Any]:
            return self.collection.get(proxy).add_toxic(ToxicSpec.model_validate(toxic)).model_dump()

        return self.call(add())

    def remove_toxic(self, proxy: str, toxic: str, *, missing_ok: bool = False) -> None:
        async def remove() -> None:
            try:
                self.collection.get(proxy).remove_toxic(toxic)
            except ApiError as exc:
                if not (missing_ok and exc.status == 404):
                    raise

        self.call(remove())

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        async def switch() -> None:
            await self.collection.get(proxy).set_enabled(enabled)

        self.call(switch())

    def reset(self) -> None:
        self.call(self.collection.reset())
