"""bandwidth: cap throughput at ``rate`` KB/s, 1 KB = 1000 bytes (Toxiproxy ``toxics/bandwidth.go``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from pydantic import Field

from harness.faults.proxy.toxics.base import Chunk, Toxic, ToxicContext, register_toxic

SLICE_S = 0.05  # send at most 50 ms worth at a time, so the rate is smooth even for big chunks


@register_toxic("bandwidth")
class Bandwidth(Toxic):
    rate: float = Field(..., gt=0, description="KB/s (1 KB = 1000 bytes)")

    async def pipe(self, chunk: Chunk, ctx: ToxicContext) -> AsyncIterator[Chunk]:
        bytes_per_s = self.rate * 1000
        step = max(1, int(bytes_per_s * SLICE_S))
        for start in range(0, len(chunk.data), step):
            piece = chunk.data[start : start + step]
            # A virtual send clock per connection: each piece may leave once the previous ones have "used" the
            # link; idle time is not banked as credit (no burst after a pause).
            due = max(ctx.state.get("due", 0.0), time.monotonic()) + len(piece) / bytes_per_s
            ctx.state["due"] = due
            await asyncio.sleep(max(due - time.monotonic(), 0.0))
            yield Chunk(piece, chunk.at)
