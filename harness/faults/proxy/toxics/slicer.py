"""slicer: cut data into pieces of ``average_size`` ± ``size_variation`` bytes, ``delay`` µs apart.

The delay is in microseconds, as in Toxiproxy's ``toxics/slicer.go``. Useful to catch clients that assume one
read returns one whole message.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from pydantic import Field

from harness.faults.proxy.toxics.base import Chunk, Toxic, ToxicContext, register_toxic


@register_toxic("slicer")
class Slicer(Toxic):
    average_size: int = Field(..., gt=0, description="bytes")
    size_variation: int = Field(0, ge=0, description="bytes, uniform ± around average_size")
    delay: float = Field(0, ge=0, description="µs between pieces")

    async def pipe(self, chunk: Chunk, ctx: ToxicContext) -> AsyncIterator[Chunk]:
        data, start = chunk.data, 0
        while start < len(data):
            size = self.average_size + ctx.rng.randint(-self.size_variation, self.size_variation)
            end = start + max(size, 1)
            yield Chunk(data[start:end], chunk.at)
            start = end
            if self.delay and start < len(data):
                await asyncio.sleep(self.delay / 1_000_000)
