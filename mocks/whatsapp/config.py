"""The mock's configuration: one pydantic model, loaded from YAML with ``ground.loading.load_model``.

Every field has a default, so ``MockConfig()`` is a working mock (docs/contracts.md, "Defaults"). Secrets (access
tokens, the app secret, the control-plane token) may also come from the environment, which wins over the file:
``SCRMBENCH_MOCK_ACCESS_TOKEN``, ``SCRMBENCH_MOCK_APP_SECRET``, ``SCRMBENCH_MOCK_ADMIN_TOKEN``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ground.secrets import read_secret
from mocks.whatsapp.faults import FaultSpec

ADMIN_TOKEN_ENV = "SCRMBENCH_MOCK_ADMIN_TOKEN"
DEV_ADMIN_TOKEN = "mock-admin-token"  # the documented development default (docs/contracts.md)


def admin_token_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The control plane's token: ``SCRMBENCH_MOCK_ADMIN_TOKEN``, else the development default; registered for
    redaction. The one source for both sides: the mock serves with it, the harness's calls carry it."""
    return read_secret(ADMIN_TOKEN_ENV, fallback=DEV_ADMIN_TOKEN, environ=environ)


TIERS: dict[str, int | None] = {"250": 250, "2K": 2_000, "10K": 10_000, "100K": 100_000, "unlimited": None}
TIER_ORDER = ("250", "2K", "10K", "100K", "unlimited")
# Meta's per-number throughput levels (reference §4.1): coexistence numbers (shared with the WhatsApp Business app)
# are fixed at 20 msg/s, STANDARD is 80, HIGH 1,000. ``limits.throughput: <name>`` sets throughput_per_second.
TemplateCategory = Literal["marketing", "utility", "authentication"]
THROUGHPUT_PRESETS = {"coexistence": 20.0, "standard": 80.0, "high": 1_000.0}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhoneNumberConfig(_Strict):
    id: str = Field(pattern=r"^[0-9]{1,20}$")
    display_phone_number: str = "15550000001"
    verified_name: str = "scrmbench mock business"
    waba_id: str = Field(default="200000000000001", pattern=r"^[0-9]{1,20}$")
    quality_rating: Literal["GREEN", "YELLOW", "RED", "UNKNOWN"] = "GREEN"
    # Messaging limits are per business portfolio (docs/whatsapp-2026.md §2): numbers without one share "default".
    portfolio_id: str = Field(default="default", min_length=1, max_length=64)
    # Shared with the WhatsApp Business app: fixed at 20 msg/s, never upgraded (Meta's throughput page).
    coexistence: bool = False


class LimitsConfig(_Strict):
    """Meta's values by default (reference §4). Each limiter can be switched off with ``enabled: false``."""

    enabled: bool = True
    # A named level (THROUGHPUT_PRESETS) instead of a number; giving both is an error unless they agree.
    throughput: Literal["coexistence", "standard", "high"] | None = None
    throughput_per_second: float = Field(default=80.0, gt=0)  # per phone number; presets 20 / 80 / 1000
    throughput_burst: float | None = Field(default=None, gt=0)  # bucket size; None = one second's worth
    pair_rate_per_6s: float = Field(default=1.0, gt=0)  # per (phone number, recipient)
    pair_burst: int = Field(default=45, ge=1)
    tier: Literal["250", "2K", "10K", "100K", "unlimited"] = "250"  # unique business-initiated users / 24 h
    # Where the reach limit is counted: "portfolio" (Meta since 2025-10-07, shared by all the portfolio's numbers)
    # or "waba" (the mock before late 2026).
    reach_scope: Literal["portfolio", "waba"] = "portfolio"
    # Automatic scaling: every ``scale_every_s`` the limit steps up one tier when the peak 24 h reach of the last
    # ``scale_window_days`` was at least ``scale_share`` of it (docs/whatsapp-2026.md §2). False: fixed tier.
    auto_scale: bool = True
    scale_every_s: float = Field(default=6 * 3_600.0, gt=0)
    scale_window_days: int = Field(default=7, ge=1)
    scale_share: float = Field(default=0.5, gt=0, le=1)
    # Automatic throughput upgrade to 1,000 msg/s once the portfolio is unlimited (not for coexistence numbers):
    # ``throughput_upgrade_s`` of 131057 first, then phone_number_quality_update THROUGHPUT_UPGRADE.
    auto_throughput_upgrade: bool = True
    throughput_upgrade_s: float = Field(default=60.0, ge=0)
    enforce_customer_window: bool = True  # free-form outside 24 h of the customer's last message -> 131047
    tier_error_code: int = 131048  # Meta's exact code for the reach limit is unconfirmed (reference §4.4)
    # WABA management calls (/{waba}, /{waba}/phone_numbers, /{waba}/message_templates) per hour -> 80007;
    # 5000 for an active WABA, 200 otherwise (reference §4.3). None switches it off.
    management_requests_per_hour: int | None = Field(default=5_000, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _throughput_preset(cls, data: Any) -> Any:
        preset = data.get("throughput") if isinstance(data, dict) else None
        if not isinstance(preset, str) or preset not in THROUGHPUT_PRESETS:
            return data  # no preset, or an unknown name/type that the Literal reports with the allowed ones
        rate = THROUGHPUT_PRESETS[preset]
        given = data.get("throughput_per_second")
        if given is None:
            return {**data, "throughput_per_second": rate}
        if isinstance(given, int | float) and float(given) != rate:
            names = ", ".join(f"{name} = {value:g}" for name, value in THROUGHPUT_PRESETS.items())
            raise ValueError(
                f"throughput {preset!r} means {rate:g} msg/s per number but throughput_per_second is {given}; "
                f"set only one of them (presets: {names})"
            )
        return data

    @property
    def tier_limit(self) -> int | None:
        return TIERS[self.tier]


class VersionsConfig(_Strict):
    """Graph API versions (mocks/whatsapp/versions.py, docs/whatsapp-2026.md). ``enforce: false`` accepts any
    ``vNN.N`` as before; ``today`` pins the date that decides which versions are released and expired (default:
    the clock's UTC date). ``header`` adds ``facebook-api-version: <served version>`` to send answers (the header's
    exact use by Meta is unconfirmed, so it can be switched off)."""

    enforce: bool = True
    today: dt.date | None = None
    header: bool = True


def _authentication_only() -> list[TemplateCategory]:
    return ["authentication"]


class IdentityConfig(_Strict):
    """Business-scoped user ids (docs/whatsapp-2026.md §5). ``parent_bsuid`` gives every customer a parent BSUID
    (``CC.ENT.…``, managed businesses only), carried as ``parent_user_id`` and ``recipient_parent_user_id``.
    A send addressed to a BSUID (``recipient``, or ``to`` holding a BSUID) with a template of a category in
    ``bsuid_refused_categories`` answers ``bsuid_refused_code`` ([] switches it off). The phone number is left out
    of webhooks (``contacts[].wa_id``, ``statuses[].recipient_id``, ``messages[].from``) when no message was
    exchanged with the customer in the last ``withhold_phone_after_days`` on the mock's clock (None: never), for
    customers with a username (``withhold_phone_for: usernames``, as Meta's partners describe it) or for all."""

    parent_bsuid: bool = False
    bsuid_refused_categories: list[TemplateCategory] = Field(default_factory=_authentication_only)
    bsuid_refused_code: int = 131062
    withhold_phone_after_days: float | None = Field(default=30.0, gt=0)
    withhold_phone_for: Literal["usernames", "all"] = "usernames"


class PricingConfig(_Strict):
    """The ``pricing`` of status webhooks (docs/whatsapp-2026.md §6). Per-message pricing: marketing and
    authentication templates regular; utility templates free inside the customer service window; non-template
    (service) messages free. ``october_2026: true`` applies the change partners report for 2026-10-01 and Meta's
    own page did not confirm when read: service messages billable (at the utility rate) and utility templates
    billable inside the window."""

    october_2026: bool = False


class AuthConfig(_Strict):
    access_tokens: list[str] = Field(default_factory=lambda: ["mock-access-token"], min_length=1)
    expired_tokens: list[str] = Field(default_factory=lambda: ["mock-expired-token"])
    # No Authorization header: Graph answers 190 or 104 depending on the endpoint (reference §2).
    missing_token_code: Literal[104, 190] = 190
    missing_token_http_status: Literal[400, 401] = 401


class LedgerConfig(_Strict):
    memory_rows: int = Field(default=200_000, ge=1)  # past this, rows spill to Parquet segments on disk
    spill_dir: str | None = None  # None: a temporary folder removed at shutdown


class MediaConfig(_Strict):
    url_ttl_s: float = Field(default=300.0, gt=0)  # download URLs live 5 minutes (reference §1.4)
    retention_s: float = Field(default=30 * 86_400.0, gt=0)  # uploaded media live 30 days
    max_total_bytes: int = Field(default=512 * 1024 * 1024, ge=1)  # oldest media evicted past this


class TemplateConfig(_Strict):
    name: str
    language: str = "en_US"
    body_params: int = Field(default=0, ge=0)
    category: Literal["marketing", "utility", "authentication"] = "marketing"


class MockConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8900, ge=0, le=65_535)
    app_secret: str = "mock-app-secret"
    admin_token: str = DEV_ADMIN_TOKEN
    auth: AuthConfig = Field(default_factory=AuthConfig)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    pricing: PricingConfig = Field(default_factory=PricingConfig)
    versions: VersionsConfig = Field(default_factory=VersionsConfig)
    phone_numbers: list[PhoneNumberConfig] = Field(
        default_factory=lambda: [PhoneNumberConfig(id="100000000000001")], min_length=1
    )
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    rate_limit_http_status: Literal[400, 429] = 400  # for 130429 / 131056 / 131048 / 4 / 80007
    not_on_whatsapp_share: float = Field(default=0.0, ge=0.0, le=1.0)  # share of recipients not on WhatsApp
    not_on_whatsapp_mode: Literal["sync", "async"] = "sync"  # sync 133010, or accept and fail later with 131026
    max_customers: int = Field(default=500_000, ge=1)  # identities kept; least recently used forgotten past it
    max_in_flight: int = Field(default=2_048, ge=1)  # concurrent Graph requests; past it, 503 at once (shedding)
    seed: int = 0  # BSUIDs, not-on-WhatsApp picks and faults without their own seed derive from it
    # The served mock freezes the collector's survivors this often (ground/heap.py; 0: never, the default collector).
    heap_freeze_interval_s: float = Field(default=2.0, ge=0.0, le=3600.0)
    ledger: LedgerConfig = Field(default_factory=LedgerConfig)
    media: MediaConfig = Field(default_factory=MediaConfig)
    templates: list[TemplateConfig] = Field(default_factory=list)  # empty: any template name is accepted
    # Marketing Messages API: bid_spec is unsupported after 2026-07-31 (refused); "ignore" accepts it silently.
    marketing_bid_spec: Literal["refuse", "ignore"] = "refuse"
    faults: list[FaultSpec] = Field(default_factory=list)  # bodies as for POST /_mock/faults, active from start
    # Settings of the webhook engine (mocks/whatsapp/webhooks), validated by that package's own model.
    webhooks: dict[str, Any] = Field(default_factory=dict)
    # Set by ``scrmbench mock serve --workers N``: this process's shard and every shard's port.
    shard_index: int = Field(default=0, ge=0)
    shard_ports: list[int] = Field(default_factory=list)

    @field_validator("phone_numbers")
    @classmethod
    def _unique_ids(cls, numbers: list[PhoneNumberConfig]) -> list[PhoneNumberConfig]:
        ids = [number.id for number in numbers]
        if len(set(ids)) != len(ids):
            raise ValueError(f"phone number ids must be unique, got {ids}")
        return numbers

    def with_environment(self, environ: Mapping[str, str] | None = None) -> MockConfig:
        """A copy with secrets taken from ``SCRMBENCH_MOCK_*`` environment variables where set."""
        env = os.environ if environ is None else environ
        update: dict[str, Any] = {}
        if env.get("SCRMBENCH_MOCK_APP_SECRET"):
            update["app_secret"] = env["SCRMBENCH_MOCK_APP_SECRET"]
        if env.get(ADMIN_TOKEN_ENV):
            update["admin_token"] = admin_token_from_env(env)
        if env.get("SCRMBENCH_MOCK_ACCESS_TOKEN"):
            tokens = [token.strip() for token in env["SCRMBENCH_MOCK_ACCESS_TOKEN"].split(",") if token.strip()]
            update["auth"] = self.auth.model_copy(update={"access_tokens": tokens})
        return self.model_copy(update=update) if update else self
