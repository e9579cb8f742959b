"""reset_peer: reset the connection (TCP RST) after ``timeout`` ms (Toxiproxy ``toxics/reset_peer.go``)."""

from __future__ import annotations

import asyncio

from pydantic import Field

from harness.faults.proxy.toxics.base import Toxic, ToxicContext, register_toxic


@register_toxic("reset_peer")
class ResetPeer(Toxic):
    timeout: float = Field(0, ge=0, description="ms after the toxic meets the connection; 0 = at once")

    async def on_link(self, ctx: ToxicContext) -> None:
        await asyncio.sleep(self.timeout / 1000)
        ctx.link.close("reset_peer toxic", reset=True)
