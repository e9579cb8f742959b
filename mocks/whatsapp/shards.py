"""Which shard owns what, and talking to the other shards (``scrmbench mock serve --workers N``).

Every process knows the whole config; shard i owns the phone numbers at positions i, i+N, ... and the media ids
congruent to i modulo N (MediaStore hands them out that way). A request for something another shard owns is
forwarded there once (marked with ``x-mock-forwarded`` so it never bounces); control-plane writes are repeated on
every shard and reads are merged (marked ``x-mock-local`` so the other shards answer for themselves only).
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from mocks.whatsapp.config import MockConfig

FORWARDED = "x-mock-forwarded"
LOCAL = "x-mock-local"
FAULT_ID = "x-mock-fault-id"
_HOP_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding", "keep-alive"})


def sender_for(recipient: str, numbers: Sequence[str]) -> str:
    """The business number (of ``numbers``, sorted by the caller) that talks to ``recipient``: CRC-32 of its digits,
    stable across processes, so the load, the reference vendor and the simulated customers of a sharded run agree
    on it and a customer always hears from, and writes to, the same number."""
    digits = recipient.removeprefix("whatsapp:").lstrip("+")
    return numbers[zlib.crc32(digits.encode()) % len(numbers)]


@dataclass
class Relayed:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class ShardMap:
    def __init__(self, config: MockConfig) -> None:
        self.index = config.shard_index
        self.ports = list(config.shard_ports)
        self.count = max(1, len(self.ports))
        self.host = config.host
        self.owner = {number.id: position % self.count for position, number in enumerate(config.phone_numbers)}
        self._client: httpx.AsyncClient | None = None

    @property
    def active(self) -> bool:
        return self.count > 1

    def number_owner(self, phone_number_id: str) -> int:
        return self.owner.get(phone_number_id, self.index)

    def media_owner(self, media_id: str) -> int:
        return int(media_id) % self.count if media_id.isdigit() else self.index

    def url(self, shard: int) -> str:
        return f"http://{self.host}:{self.ports[shard]}"

    def describe(self) -> list[dict[str, object]]:
        if not self.active:
            return []
        return [
            {
                "index": shard,
                "url": self.url(shard),
                "phone_numbers": [number for number, owner in self.owner.items() if owner == shard],
            }
            for shard in range(self.count)
        ]

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
            self._client = httpx.AsyncClient(timeout=60.0, limits=limits)
        return self._client

    async def relay(
        self, shard: int, method: str, path: str, query: bytes, headers: list[tuple[str, str]], body: bytes, mark: str
    ) -> Relayed:
        """Send one request to ``shard`` and hand back its answer (``mark`` is FORWARDED or LOCAL)."""
        kept = [(name, value) for name, value in headers if name.lower() not in _HOP_HEADERS]
        kept.append((mark, "1"))
        url = self.url(shard) + path + (("?" + query.decode("latin-1")) if query else "")
        response = await self._http().request(method, url, headers=kept, content=body)
        out = [(name, value) for name, value in response.headers.items() if name.lower() not in _HOP_HEADERS]
        return Relayed(response.status_code, out, response.content)

    async def to_others(
        self, method: str, path: str, query: bytes, headers: list[tuple[str, str]], body: bytes
    ) -> list[Relayed]:
        others = [shard for shard in range(self.count) if shard != self.index]
        return list(await asyncio.gather(*(self.relay(s, method, path, query, headers, body, LOCAL) for s in others)))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
