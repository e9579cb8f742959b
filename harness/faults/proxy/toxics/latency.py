"""latency: delay all data by ``latency`` ± ``jitter`` milliseconds (Toxiproxy ``toxics/latency.go``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from pydantic import Field

from harness.faults.proxy.toxics.base import Chunk, Toxic, ToxicContext, register_toxic


@register_toxic("latency")
class Latency(Toxic):
    latency: float = Field(0, ge=0, description="ms added to every chunk")
    jitter: float = Field(0, ge=0, description="ms, uniform ± around latency")

    async def pipe(self, chunk: Chunk, ctx: ToxicContext) -> AsyncIterator[Chunk]:
        delay_ms = self.latency + (ctx.rng.uniform(-self.jitter, self.jitter) if self.jitter else 0.0)
        # Counted from when the chunk was read, so chunks in flight overlap and throughput is kept.
        wait = chunk.at + max(delay_ms, 0.0) / 1000 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        yield chunk
