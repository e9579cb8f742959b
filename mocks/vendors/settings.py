"""Settings of one reference SCRM instance and of the HA front, as pydantic models.

Secrets (API key, Graph access token, app secret, verify token) are read from environment variables only, so
they never appear in a command line, a profile file or a log; ``SecretStr`` keeps them out of reprs.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

API_KEY_ENV = "REFERENCE_API_KEY"
ACCESS_TOKEN_ENV = "WHATSAPP_ACCESS_TOKEN"
APP_SECRET_ENV = "WHATSAPP_APP_SECRET"
VERIFY_TOKEN_ENV = "WHATSAPP_VERIFY_TOKEN"

DEFAULT_AUTO_REPLIES = {
    "discount": "Here is your discount code: SAVE10 (valid today).",
    "price": "Our current price list: https://shop.example/prices",
    "where is my order": "Your order is on its way; track it at https://shop.example/track",
    "refund": "Refunds are processed within 5 working days.",
}

DEFAULT_FALLBACK_REPLY = "Thanks for your message! An agent will get back to you shortly."


def _env_secret(name: str, default: str) -> SecretStr:
    return SecretStr(os.environ.get(name, default))


class RetrySettings(BaseModel):
    """Retry with exponential backoff on Graph throttling (130429, 131056), 5xx and transport errors."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    max_attempts: int = Field(default=8, ge=1, le=100)
    base_s: float = Field(default=0.2, gt=0)
    max_s: float = Field(default=5.0, gt=0)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        return float(min(self.max_s, self.base_s * (2**attempt)))


class LatencySettings(BaseModel):
    """An injected latency distribution (the `calibrated` profile's truth)."""

    model_config = ConfigDict(extra="forbid")

    distribution: Literal["fixed", "uniform", "normal", "lognormal"] = "fixed"
    ms: float = Field(default=50.0, ge=0)
    min_ms: float = Field(default=0.0, ge=0)
    max_ms: float = Field(default=100.0, ge=0)
    mean_ms: float = Field(default=50.0, ge=0)
    stddev_ms: float = Field(default=10.0, ge=0)


class VendorSettings(BaseModel):
    """One reference SCRM process. Profiles (``mocks.vendors.profiles``) are named sets of these values."""

    model_config = ConfigDict(extra="forbid")

    profile: str = "steady"
    role: Literal["single", "primary", "standby"] = "single"
    instance: str = "ref-1"
    whatsapp_url: str = "http://127.0.0.1:8900"
    graph_version: str = "v21.0"
    phone_number_id: str = "100000000000001"
    # A sharded mock (scrmbench run --mock-shards N): its phone number ids → the URL of the shard that owns each.
    # Set, sends spread over these numbers by recipient (mocks.whatsapp.shards.sender_for), each to its own shard.
    shard_routes: dict[str, str] = Field(default_factory=dict)
    db_path: str = "reference-vendor.sqlite3"
    api_key: SecretStr = Field(default_factory=lambda: _env_secret(API_KEY_ENV, "reference-api-key"))
    access_token: SecretStr = Field(default_factory=lambda: _env_secret(ACCESS_TOKEN_ENV, "mock-access-token"))
    app_secret: SecretStr = Field(default_factory=lambda: _env_secret(APP_SECRET_ENV, "mock-app-secret"))
    verify_token: SecretStr = Field(default_factory=lambda: _env_secret(VERIFY_TOKEN_ENV, "reference-verify-token"))

    # Outbound pipeline.
    workers: int = Field(default=8, ge=1, le=256)
    durable_queue: bool = True  # SQLite outbox (survives a crash) or an in-memory asyncio queue (lost with it)
    # Per-job downstream cost (CRM enrichment), paid on a fixed schedule: capacity = workers / service, exactly.
    service_ms: float = Field(default=0.0, ge=0)
    send_rate_per_s: float = Field(default=60.0, gt=0)  # per phone number, below Meta's 80 mps default
    send_burst: int = Field(default=60, ge=1)
    retry: RetrySettings = Field(default_factory=lambda: RetrySettings())
    lease_s: float = Field(default=5.0, gt=0)  # a claimed durable job returns to the queue after this (crash recovery)
    graph_timeout_s: float = Field(default=10.0, gt=0)

    # Loss (the `lossy` profile): drop acknowledged jobs while at least `loss_queue_threshold` jobs wait (0: always).
    loss_fraction: float = Field(default=0.0, ge=0, le=1)
    loss_queue_threshold: int = Field(default=0, ge=0)

    # Media (the `flaky-media` profile): 503 after this many uploads within the sliding window.
    media_fail_after: int | None = Field(default=None, ge=0)
    media_window_s: float = Field(default=3600.0, gt=0)

    # API faults (the `calibrated` profile): a seeded injected latency distribution and error rate on /api/ routes.
    api_latency: LatencySettings | None = None
    api_error_rate: float = Field(default=0.0, ge=0, le=1)
    seed: int = 0
    # Each request's realised service time, kept for GET /_vendor/timings (mocks/vendors/timing.py): the last N
    # rows (about 0.7 kB each). Small by default, so a soak's memory stays flat after the first seconds.
    timings_capacity: int = Field(default=2_000, ge=1, le=1_000_000)

    # Inbound: webhook limits, routing, auto-replies.
    max_webhook_bytes: int = Field(default=3 * 1024 * 1024, ge=1024)  # Meta's payload cap (reference §5.2)
    agents: list[str] = Field(default_factory=lambda: ["alice", "bob", "carol"], min_length=1)
    # Routing (mocks/vendors/desk.py): least-loaded is least-busy's old name.
    assignment: Literal["round-robin", "least-loaded", "least-busy", "skill"] = "round-robin"
    agent_cap: int = Field(default=6, ge=1, le=100)  # parallel conversations per agent (market-figures.md #11)
    seats: int | None = Field(default=None, ge=1, le=100_000)  # agents online at once; None: unlimited
    # Mean of the exponential handle-time hold on each assignment (the `understaffed` truth); None: the agent's
    # close frees the slot.
    handle_s: float | None = Field(default=None, gt=0, le=86_400)
    auto_replies: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_AUTO_REPLIES))
    # The first response to a message no keyword matches; null leaves such messages to the agents.
    fallback_reply: str | None = DEFAULT_FALLBACK_REPLY

    @field_validator("whatsapp_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("shard_routes")
    @classmethod
    def _strip_slashes(cls, routes: dict[str, str]) -> dict[str, str]:
        return {str(number): url.rstrip("/") for number, url in routes.items()}


class FrontSettings(BaseModel):
    """The embedded HA front: health checks, failure threshold, and how failover happens."""

    model_config = ConfigDict(extra="forbid")

    interval_s: float = Field(default=0.5, gt=0)
    timeout_s: float = Field(default=0.5, gt=0)
    failure_threshold: int = Field(default=3, ge=1)
    failover: Literal["automatic", "manual"] = "automatic"
    # Manual failover: the simulated operator switches this long after detection; None waits for
    # POST /_front/failover (a human).
    manual_delay_s: float | None = Field(default=None, ge=0)
    proxy_timeout_s: float = Field(default=30.0, gt=0)
    # Passive checks: a proxied request that cannot connect counts as a failed check. Off by default, so a
    # profile's detection time is its active checks' threshold x interval whatever the traffic (with webhooks
    # and load flowing, passive failures reach the threshold within milliseconds and hide the outage).
    passive_checks: bool = False
