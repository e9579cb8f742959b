"""Settings of webhook delivery, the status ladder and simulated customers (the ``webhooks:`` section of a mock
config). Every field has a default, so a mock without config delivers Meta-like webhooks out of the box.
"""

from __future__ import annotations

import math
import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SEVEN_DAYS_S = 7 * 24 * 3600.0


class Delay(BaseModel):
    """A delay distribution in milliseconds (same vocabulary as the mock's latency faults)."""

    model_config = ConfigDict(extra="forbid")

    distribution: Literal["fixed", "uniform", "normal", "lognormal", "exponential"] = "fixed"
    ms: float = Field(default=0.0, ge=0)  # fixed
    min_ms: float = Field(default=0.0, ge=0)  # uniform
    max_ms: float = Field(default=0.0, ge=0)
    mean_ms: float = Field(default=0.0, ge=0)  # normal, lognormal, exponential
    stddev_ms: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> Delay:
        if self.distribution == "uniform" and self.max_ms < self.min_ms:
            raise ValueError(f"max_ms ({self.max_ms}) is below min_ms ({self.min_ms}); give max_ms >= min_ms")
        return self

    def sample_s(self, rng: random.Random) -> float:
        """One delay in seconds, never negative."""
        kind = self.distribution
        if kind == "fixed":
            ms = self.ms
        elif kind == "uniform":
            ms = rng.uniform(self.min_ms, self.max_ms)
        elif kind == "normal":
            ms = rng.gauss(self.mean_ms, self.stddev_ms)
        elif kind == "exponential":
            ms = rng.expovariate(1.0 / self.mean_ms) if self.mean_ms > 0 else 0.0
        else:  # lognormal with the given mean and stddev of the delay itself (not of its log)
            ms = _lognormal(rng, self.mean_ms, self.stddev_ms)
        return max(ms, 0.0) / 1000.0


def _lognormal(rng: random.Random, mean: float, stddev: float) -> float:
    if mean <= 0:
        return 0.0
    sigma2 = math.log(1.0 + (stddev / mean) ** 2)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2))


class LadderConfig(BaseModel):
    """The statuses every accepted outbound message gets (reference §5.3)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    sent: Delay = Field(default_factory=lambda: Delay(distribution="lognormal", mean_ms=300, stddev_ms=150))
    delivered: Delay = Field(default_factory=lambda: Delay(distribution="lognormal", mean_ms=700, stddev_ms=400))
    read: Delay = Field(default_factory=lambda: Delay(distribution="exponential", mean_ms=5000))
    read_share: float = Field(default=0.6, ge=0, le=1)  # of delivered messages, among users with read receipts on
    read_receipts_off_share: float = Field(default=0.15, ge=0, le=1)  # users who never send `read`
    failed_rate: float = Field(default=0.01, ge=0, le=1)
    failed_codes: list[int] = Field(default_factory=lambda: [131026, 131049, 131026, 131000])
    # Meta's status webhook reference (docs/whatsapp-2026.md §5): a message delivered and read at the same time
    # (the user is in the chat) gets no ``delivered`` webhook. The share of read messages that are read at once is
    # the mock's own figure (Meta gives none); 0 sends ``delivered`` before every ``read`` as before.
    skip_delivered_share: float = Field(default=0.05, ge=0, le=1)
    # Statuses carry the customer's BSUID as ``recipient_user_id`` (and ``recipient_parent_user_id`` when the mock
    # gives parent BSUIDs); false drops both (the shape before 2026).
    recipient_user_id: bool = True
    # Delivery to a phone that cannot be reached (docs/whatsapp-2026.md §4): WhatsApp retries delivery for the
    # message's time-to-live (Marketing Messages API: its ``message_send_ttl_seconds``; Cloud API: 10 minutes for
    # authentication templates, 30 days otherwise). A recipient back in time gets ``delivered`` then; otherwise the
    # message gets ``failed`` with ``ttl_expired_code`` when its TTL runs out (``sent`` comes first either way).
    # ``unreachable_share`` of messages find the phone off for a time drawn from ``unreachable_for`` (the mock's
    # own figures: Meta publishes none); ``POST /_mock/customers/{key}/unreachable`` makes one customer unreachable.
    # Waits and TTLs run on the webhook engine's ``time_compression``.
    unreachable_share: float = Field(default=0.0, ge=0, le=1)
    unreachable_for: Delay = Field(default_factory=lambda: Delay(distribution="exponential", mean_ms=6 * 3600 * 1000.0))
    ttl_expired_code: int = 410


class SubscriptionConfig(BaseModel):
    """A webhook subscription known from the start (the control plane can add more)."""

    model_config = ConfigDict(extra="forbid")

    callback_url: str
    verify_token: str = ""
    app_secret: str | None = None  # default: the mock's app secret
    phone_number_id: str | None = None
    waba_id: str | None = None
    skip_verification: bool = False


class WebhookConfig(BaseModel):
    """Delivery engine settings. ``seed`` makes ladders, duplicates, reordering and customers reproducible."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    subscriptions: list[SubscriptionConfig] = Field(default_factory=list)
    ladder: LadderConfig = Field(default_factory=LadderConfig)
    batch_max: int = Field(default=1, ge=1, le=1000)  # updates per POST (Meta: up to 1000)
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)  # share of updates delivered twice
    reorder_rate: float = Field(default=0.0, ge=0, le=1)  # share of updates held back so later ones overtake them
    reorder_delay: Delay = Field(default_factory=lambda: Delay(distribution="uniform", min_ms=200, max_ms=2000))
    duplicate_delay: Delay = Field(default_factory=lambda: Delay(distribution="uniform", min_ms=50, max_ms=1000))
    workers: int = Field(default=64, ge=1, le=4096)  # concurrent POSTs (the delivery task pool)
    transport: Literal["raw", "httpx"] = "raw"  # raw: lean HTTP/1.1 client for http:// receivers (https via httpx)
    queue_max: int = Field(default=200_000, ge=1)  # pending updates; beyond it new updates are dropped and counted
    timeout_s: float = Field(default=10.0, gt=0)
    time_compression: float = Field(default=1.0, ge=1.0)  # 10080 squeezes Meta's 7-day retry horizon into 60 s
    horizon_s: float = Field(default=SEVEN_DAYS_S, gt=0)  # before compression
    # Attempt records: past attempts_memory_rows (or attempts_max_rows, if lower) they spill to Parquet segments in
    # the mock's spill folder (ledger.spill_dir, else a temporary one), so none is lost. attempts_max_rows is a hard
    # cap on the records in memory, reached only when spilling is off or the folder cannot be written: then the
    # oldest are dropped and counted (attempts.py).
    attempts_memory_rows: int = Field(default=200_000, ge=1)
    attempts_spill: bool = True
    attempts_max_rows: int = Field(default=5_000_000, ge=1000)
    customer_batch_max: int = Field(default=100_000, ge=1, le=100_000)  # customer messages per batch call
    # Inbound messages remembered for reply linking (a few hundred bytes each); past it the oldest are forgotten,
    # and a reply to one of those is no longer linked.
    replies_max_tracked: int = Field(default=500_000, ge=1)

    # Removed: a far callback host was always refused (the network rule needs a per-run owner's confirmation that
    # a mock config cannot give), so the setting is kept only to say so when a config still sets it.
    allowed_callback_hosts: list[str] | None = Field(default=None, exclude=True, repr=False)

    @field_validator("allowed_callback_hosts")
    @classmethod
    def _removed(cls, value: list[str] | None) -> None:
        if value is not None:
            raise ValueError(
                "webhooks.allowed_callback_hosts was removed: the mock sends webhooks to loopback receivers only "
                "(a far host was always refused); delete the setting and run the receiver on 127.0.0.1, or forward "
                "a loopback port to it (ssh -L 9000:receiver-host:9000, then callback_url http://127.0.0.1:9000/...)"
            )
        return None

    @property
    def horizon_scaled_s(self) -> float:
        return self.horizon_s / self.time_compression
