"""limit_data: close the connection once ``bytes`` have passed in this direction (Toxiproxy ``limit_data.go``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from pydantic import Field

from harness.faults.proxy.toxics.base import Chunk, CloseLink, Toxic, ToxicContext, register_toxic


@register_toxic("limit_data")
class LimitData(Toxic):
    bytes: int = Field(..., ge=0, description="bytes let through before the close")

    async def pipe(self, chunk: Chunk, ctx: ToxicContext) -> AsyncIterator[Chunk]:
        passed = ctx.state.get("passed", 0)
        room = self.bytes - passed
        if room > 0:
            piece = chunk.data[:room]
            ctx.state["passed"] = passed + len(piece)
            yield Chunk(piece, chunk.at)
        if ctx.state.get("passed", 0) >= self.bytes:
            raise CloseLink("limit_data toxic")
