"""slow_close: delay the close of the connection by ``delay`` ms (Toxiproxy ``toxics/slow_close.go``)."""

from __future__ import annotations

import asyncio

from pydantic import Field

from harness.faults.proxy.toxics.base import Toxic, ToxicContext, register_toxic


@register_toxic("slow_close")
class SlowClose(Toxic):
    delay: float = Field(0, ge=0, description="ms to hold the connection open after the source closed")

    async def on_eof(self, ctx: ToxicContext) -> None:
        await asyncio.sleep(self.delay / 1000)
