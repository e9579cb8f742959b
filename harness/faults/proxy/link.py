"""One proxied connection: client ↔ proxy ↔ upstream, two pumps, the toxics applied per chunk.

Toxics are looked up for every chunk, so adding one affects connections that are already open (keep-alive
pools are where a failover really hurts). With no toxic on a direction the pump writes straight through; with
toxics it hands chunks to a writer task through a queue, so a delayed chunk does not stop the next one from
being read (latency keeps throughput, as in Toxiproxy).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections.abc import Callable, Sequence

from harness.faults.proxy.toxics.base import ActiveToxic, Chunk, CloseLink, LinkHandle, Stream, Toxic, ToxicContext

log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024
DRAIN_ABOVE = 256 * 1024  # bytes waiting in a transport before the fast path lets the reader wait for it
QUEUE_CHUNKS = 64  # read-ahead while toxics delay delivery; then back-pressure on the source


class Link(LinkHandle):
    def __init__(
        self,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        toxics_for: Callable[[Stream], Sequence[ActiveToxic]],
        make_context: Callable[[ActiveToxic, LinkHandle], ToxicContext],
    ) -> None:
        self.client = client
        self.upstream = upstream
        self._toxics_for = toxics_for
        self._make_context = make_context
        self._contexts: dict[int, ToxicContext] = {}  # id(ActiveToxic) -> context
        self._timers: dict[int, asyncio.Task[None]] = {}
        self._pumps: list[asyncio.Task[None]] = []
        self._reset = False
        self.closed_reason = ""

    # -- toxics meeting this connection ---------------------------------------------------------------------

    def context(self, active: ActiveToxic) -> ToxicContext:
        key = id(active)
        if key not in self._contexts:
            self._contexts[key] = self._make_context(active, self)
        return self._contexts[key]

    def attach(self, active: ActiveToxic) -> None:
        """Start the toxic's per-connection timer, if it has one (timeout, reset_peer)."""
        ctx = self.context(active)
        on_link = getattr(active.toxic, "on_link", None)
        if on_link is not None and ctx.applies and id(active) not in self._timers:
            self._timers[id(active)] = asyncio.get_running_loop().create_task(on_link(ctx))

    def detach(self, active: ActiveToxic) -> None:
        timer = self._timers.pop(id(active), None)
        if timer is not None:
            timer.cancel()
        self._contexts.pop(id(active), None)

    def close(self, reason: str, *, reset: bool = False) -> None:
        """End the connection from outside the pumps (a toxic timer, the proxy going down)."""
        self.closed_reason = self.closed_reason or reason
        self._reset = self._reset or reset
        for pump in self._pumps:
            pump.cancel()

    # -- running -----------------------------------------------------------------------------------------------

    async def run(self) -> None:
        (client_reader, client_writer), (upstream_reader, upstream_writer) = self.client, self.upstream
        self._pumps = [
            asyncio.create_task(self._pump("upstream", client_reader, upstream_writer)),
            asyncio.create_task(self._pump("downstream", upstream_reader, client_writer)),
        ]
        destinations = {self._pumps[0]: upstream_writer, self._pumps[1]: client_writer}
        try:
            pending = set(self._pumps)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if self.closed_reason or any(p.cancelled() or p.exception() is not None for p in done):
                    break  # a toxic, the proxy or an error ended the link: both sides go
                # A clean EOF on one side is passed on as a half-close (FIN), so a client that shuts down its
                # sending side still gets its answer; the link ends when both directions have.
                for pump in done:
                    writer = destinations[pump]
                    if writer.can_write_eof() and not writer.is_closing():
                        with contextlib.suppress(OSError):
                            writer.write_eof()
        finally:
            for pump in self._pumps:
                pump.cancel()
            results = await asyncio.gather(*self._pumps, return_exceptions=True)
            for result in results:
                if isinstance(result, CloseLink):
                    self.closed_reason = self.closed_reason or str(result)
                    self._reset = self._reset or result.reset
            for timer in self._timers.values():
                timer.cancel()
            self._shut(client_writer)
            self._shut(upstream_writer)

    def _shut(self, writer: asyncio.StreamWriter) -> None:
        if self._reset:
            sock: socket.socket | None = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    # Linger on with a zero timeout: close() sends RST instead of FIN ("connection reset by peer").
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        else:
            writer.close()

    async def _pump(self, stream: Stream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[Chunk | None] = asyncio.Queue(QUEUE_CHUNKS)
        deliverer: asyncio.Task[None] | None = None
        try:
            while True:
                try:
                    data = await reader.read(READ_SIZE)
                except (ConnectionError, OSError):
                    data = b""
                if not data:
                    break
                if deliverer is not None and deliverer.done():
                    deliverer.result()  # re-raises its failure; a normal return means the toxics are gone
                    deliverer = None
                if deliverer is None and not self._toxics_for(stream):
                    # Fast path: nothing to do to this direction. Write straight on; wait for the socket only
                    # when the peer is not keeping up (drain is a coroutine per chunk otherwise).
                    writer.write(data)
                    if writer.transport.get_write_buffer_size() > DRAIN_ABOVE:
                        await writer.drain()
                    continue
                if deliverer is None:
                    deliverer = asyncio.create_task(self._deliver(stream, queue, writer))
                await queue.put(Chunk(data))
            if deliverer is not None and not deliverer.done():
                await queue.put(None)
                await deliverer
            await self._on_eof(stream)
        finally:
            if deliverer is not None and not deliverer.done():
                deliverer.cancel()

    async def _deliver(self, stream: Stream, queue: asyncio.Queue[Chunk | None], writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                chunk = await queue.get()
                if chunk is None:
                    return
                toxics = [active for active in self._toxics_for(stream) if self.context(active).applies]
                await self._through(chunk, toxics, 0, writer)
                if queue.empty() and not self._toxics_for(stream):
                    return  # toxics are gone: the pump goes back to the fast path
        except CloseLink as exc:
            self.close(str(exc), reset=exc.reset)
        except (ConnectionError, OSError) as exc:
            self.close(f"write failed: {exc}")

    async def _through(self, chunk: Chunk, toxics: list[ActiveToxic], index: int, writer: asyncio.StreamWriter) -> None:
        if index == len(toxics):
            writer.write(chunk.data)
            await writer.drain()
            return
        active = toxics[index]
        toxic: Toxic = active.toxic
        async for piece in toxic.pipe(chunk, self.context(active)):
            await self._through(piece, toxics, index + 1, writer)

    async def _on_eof(self, stream: Stream) -> None:
        for active in self._toxics_for(stream):
            on_eof = getattr(active.toxic, "on_eof", None)
            if on_eof is not None and self.context(active).applies:
                await on_eof(self.context(active))
