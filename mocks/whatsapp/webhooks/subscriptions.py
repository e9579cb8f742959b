"""Webhook subscriptions and Meta's verification handshake (reference §5.1).

On subscribe the mock sends ``GET <callback_url>?hub.mode=subscribe&hub.challenge=<random>&hub.verify_token=…``;
the receiver is verified when it answers 200 with the bare challenge. Like Meta, the mock delivers only to
verified subscriptions, unless the subscription says ``skip_verification`` (for receivers that never implemented
the GET). A callback URL must be loopback: the mock is a load generator too, and the network rule (design.md,
Safety) allows far hosts only with a per-run owner's confirmation that a mock config cannot give. A receiver on
another machine is reached through a forwarded loopback port.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from ground.errors import ConfigError
from ground.net import check_target, is_loopback
from mocks.whatsapp.webhooks.signing import USER_AGENT


def _check_callback(callback_url: str) -> None:
    """Refuse a callback URL that does not parse (for urllib and for httpx, which sends the POSTs) or whose host
    is not loopback, as either parser reads it: a parser difference cannot smuggle a far host."""
    fix = "use http://127.0.0.1:PORT/... (forward a loopback port to a receiver on another machine)"
    try:
        parsed = httpx.URL(callback_url)
        check_target(callback_url)
    except (httpx.InvalidURL, ValueError) as exc:  # e.g. "http://[::1" (an unclosed IPv6 literal)
        raise ConfigError(
            f"callback_url is not a valid URL ({exc})", field="callback_url", value=callback_url, fix=fix
        ) from None
    except ConfigError as exc:
        raise ConfigError(
            "the mock only sends webhooks to loopback hosts", field="callback_url", value=callback_url, fix=fix
        ) from exc
    if parsed.port is not None and not 0 < parsed.port < 65_536:
        raise ConfigError("callback_url has no valid port", field="callback_url", value=callback_url, fix=fix)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(
            "callback_url must be an http(s) URL with a host", field="callback_url", value=callback_url, fix=fix
        )
    if not is_loopback(parsed.host):
        raise ConfigError(
            "the mock only sends webhooks to loopback hosts", field="callback_url", value=callback_url, fix=fix
        )


@dataclass(slots=True)
class Subscription:
    id: str
    callback_url: str
    verify_token: str
    app_secret: str  # never shown by the control plane
    phone_number_id: str | None = None
    waba_id: str | None = None
    skip_verification: bool = False
    verified: bool = False
    verification: dict[str, Any] = field(default_factory=dict)
    active: bool = True  # false once deleted; deliveries still queued for it are abandoned

    @property
    def deliverable(self) -> bool:
        return self.active and (self.verified or self.skip_verification)

    def matches(self, phone_number_id: str, waba_id: str) -> bool:
        """A subscription scoped to neither gets every number's webhooks."""
        if self.phone_number_id is not None and self.phone_number_id != phone_number_id:
            return False
        return self.waba_id is None or self.waba_id == waba_id

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "callback_url": self.callback_url,
            "phone_number_id": self.phone_number_id,
            "waba_id": self.waba_id,
            "skip_verification": self.skip_verification,
            "verified": self.verified,
            "verification": self.verification,
        }


class SubscriptionRegistry:
    def __init__(self, *, default_app_secret: str) -> None:
        self.default_app_secret = default_app_secret
        self._subs: dict[str, Subscription] = {}

    def add(
        self,
        *,
        callback_url: str,
        verify_token: str = "",
        app_secret: str | None = None,
        phone_number_id: str | None = None,
        waba_id: str | None = None,
        skip_verification: bool = False,
        sub_id: str | None = None,  # given when another shard created it, so every shard uses the same id
    ) -> Subscription:
        _check_callback(callback_url)
        sub = Subscription(
            id=sub_id or "sub_" + secrets.token_hex(6),
            callback_url=callback_url,
            verify_token=verify_token,
            app_secret=app_secret or self.default_app_secret,
            phone_number_id=phone_number_id,
            waba_id=waba_id,
            skip_verification=skip_verification,
        )
        self._subs[sub.id] = sub
        return sub

    def get(self, sub_id: str) -> Subscription | None:
        return self._subs.get(sub_id)

    def remove(self, sub_id: str) -> bool:
        sub = self._subs.pop(sub_id, None)
        if sub is None:
            return False
        sub.active = False
        return True

    def clear(self) -> None:
        for sub in self._subs.values():
            sub.active = False
        self._subs.clear()

    def all(self) -> list[Subscription]:
        return list(self._subs.values())

    def targets(self, phone_number_id: str, waba_id: str) -> list[Subscription]:
        if not self._subs:  # asked for every accepted send; a mock without subscriptions answers at once
            return []
        return [s for s in self._subs.values() if s.deliverable and s.matches(phone_number_id, waba_id)]


async def verify(sub: Subscription, client: httpx.AsyncClient, *, timeout_s: float = 10.0) -> dict[str, Any]:
    """Run the handshake against ``sub`` and store its result on it."""
    challenge = secrets.token_hex(8)
    params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": sub.verify_token}
    result: dict[str, Any] = {"ok": False, "http_status": 0, "error": ""}
    try:
        headers = {"User-Agent": USER_AGENT}
        response = await client.get(sub.callback_url, params=params, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    else:
        result["http_status"] = response.status_code
        if response.status_code != 200:
            result["error"] = f"the receiver answered HTTP {response.status_code}; it must answer 200"
        elif response.text.strip() != challenge:
            result["error"] = "the receiver did not echo hub.challenge as the bare response body"
        else:
            result["ok"] = True
    sub.verified = bool(result["ok"])
    sub.verification = result
    return result
