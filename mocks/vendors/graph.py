"""The reference vendor's WhatsApp Graph API client, with a configurable base URL (the mock by default).

Errors are classified once, here: throttling (130429 throughput, 131056 pair rate), server errors (5xx) and
transport errors are worth a retry; anything else (bad parameter, unknown template, expired window) is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from mocks.vendors.settings import VendorSettings
from mocks.whatsapp.shards import sender_for

WRITTEN_TO_MAX = 100_000  # customers whose number a sharded vendor remembers (market-figures: 3,000 at once)
RETRYABLE_CODES = frozenset({130429, 131056, 131000, 131016, 131057, 133004, 1, 2, 4, 80007})


@dataclass
class GraphError(Exception):
    message: str
    code: int | None = None
    http_status: int = 0

    @property
    def retryable(self) -> bool:
        return self.http_status == 0 or self.http_status >= 500 or self.code in RETRYABLE_CODES

    def __str__(self) -> str:
        return f"graph error {self.code} (HTTP {self.http_status}): {self.message}"


# Where a queued message keeps the phone-number id it goes out from (taken off before the Graph call).
FROM_KEY = "_scrmbench_from"


class GraphClient:
    def __init__(self, settings: VendorSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.http = httpx.AsyncClient(
            base_url=f"{settings.whatsapp_url}/{settings.graph_version}",
            headers={"Authorization": f"Bearer {settings.access_token.get_secret_value()}"},
            timeout=settings.graph_timeout_s,
            transport=transport,
            limits=httpx.Limits(max_connections=max(16, settings.workers * 2)),
        )
        self._numbers = tuple(sorted(settings.shard_routes))  # a sharded mock: who sends to whom
        self._written_to: dict[str, str] = {}  # customer → the number they last wrote to (in memory, bounded)

    def note_customer(self, customer: str, number: str) -> None:
        """A customer wrote to ``number``: answer them from it (agents' replies; with a sharded mock every send
        that names no number). Kept in memory, bounded; with a sharded mock only numbers of the shard map."""
        if self._numbers and number not in self.settings.shard_routes:
            return
        if len(self._written_to) >= WRITTEN_TO_MAX and customer not in self._written_to:
            self._written_to.pop(next(iter(self._written_to)))  # the oldest customer goes back to the default (or hash)
        self._written_to[customer] = number

    def written_to(self, customer: str) -> str | None:
        """The number ``customer`` last wrote to (None: not known, e.g. after a restart)."""
        return self._written_to.get(customer)

    def _messages_url(self, payload: dict[str, Any], phone_number_id: str | None = None) -> str:
        """Where a message goes: ``phone_number_id``'s path (default: the vendor's number), or (sharded) that
        number's, else the one the customer wrote to, else the one their hash picks (``sender_for``, as the
        harness's customers write), straight to its shard."""
        recipient = payload.get("to") or payload.get("recipient")
        if not self._numbers or not isinstance(recipient, str):
            return f"/{phone_number_id or self.settings.phone_number_id}/messages"
        number = phone_number_id or self._written_to.get(recipient) or sender_for(recipient, self._numbers)
        route = self.settings.shard_routes.get(number)
        if route is None:  # a number the shard map does not know: the base port forwards it to its owner
            return f"/{number}/messages"
        return f"{route}/{self.settings.graph_version}/{number}/messages"

    async def aclose(self) -> None:
        await self.http.aclose()

    async def send_message(self, payload: dict[str, Any], phone_number_id: str | None = None) -> str:
        """POST /{phone-number-id}/messages from ``phone_number_id`` (default: the vendor's own, or with a sharded
        mock the number the customer wrote to, else its hash's); the wamid on success."""
        body = await self._call("POST", self._messages_url(payload, phone_number_id), json=payload)
        try:
            return str(body["messages"][0]["id"])
        except (KeyError, IndexError, TypeError) as exc:
            raise GraphError(f"send answer without messages[0].id: {str(body)[:200]}", None, 200) from exc

    async def upload_media(self, data: bytes, mime: str, filename: str, phone_number_id: str | None = None) -> str:
        """POST /{phone-number-id}/media (multipart) under ``phone_number_id`` (default: the vendor's own)."""
        body = await self._call(
            "POST",
            f"/{phone_number_id or self.settings.phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime},
            files={"file": (filename, data, mime)},
        )
        if "id" not in body:
            raise GraphError(f"upload answer without id: {str(body)[:200]}", None, 200)
        return str(body["id"])

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise GraphError(f"{type(exc).__name__}: {exc}", None, 0) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400 or not isinstance(body, dict) or "error" in body:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            code = error.get("code") if isinstance(error, dict) else None
            message = error.get("message", response.text[:200]) if isinstance(error, dict) else response.text[:200]
            raise GraphError(str(message), int(code) if isinstance(code, int) else None, response.status_code)
        return body
