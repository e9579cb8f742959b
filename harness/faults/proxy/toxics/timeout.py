"""timeout: stop all data; close after ``timeout`` ms, or hold the connection open forever when 0.

As in Toxiproxy (``toxics/timeout.go``): data is dropped as soon as the toxic is in place (a hung upstream, or
a blackhole), and the close comes ``timeout`` ms after the toxic met the connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from pydantic import Field

from harness.faults.proxy.toxics.base import Chunk, Toxic, ToxicContext, register_toxic


@register_toxic("timeout")
class Timeout(Toxic):
    timeout: float = Field(0, ge=0, description="ms before the connection is closed; 0 = never (blackhole)")

    async def pipe(self, chunk: Chunk, ctx: ToxicContext) -> AsyncIterator[Chunk]:
        return  # dropped on purpose: that is this toxic's job
        yield chunk  # unreachable; makes this function an async generator

    async def on_link(self, ctx: ToxicContext) -> None:
        if self.timeout > 0:
            await asyncio.sleep(self.timeout / 1000)
            ctx.link.close("timeout toxic")
