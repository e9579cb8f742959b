"""Vendor profiles: one YAML file per candidate system (``vendors/*.yaml``), validated with pydantic.

A profile says how to reach a vendor (adapter, base URL, auth), what it can do (operations, whether it can be
pointed at our mock), how long to wait per operation, which non-loopback hosts may be targeted, and optionally
how the runner starts it locally (``launch``) and how a failover scenario kills it (``failover``).

Secrets are never in a profile: ``auth`` names the environment variables that hold them. Adapter-specific
settings live under ``options`` and are checked by the adapter's own options model (see
``harness.adapters.registry``), so every mistake is reported with file, line, field, value and fix.

This module holds the models only and imports no adapter. Loading a profile checks it against its adapter too,
so ``load_profile`` and ``parse_profile`` live with the adapters, in ``harness.adapters.registry``; the old names
here still work for one release, with a DeprecationWarning.

    name: acme-twilio
    adapter: twilio
    base_url: http://127.0.0.1:8911
    auth: {scheme: basic, username_env: TWILIO_ACCOUNT_SID, password_env: TWILIO_AUTH_TOKEN}
    phone_numbers: [{number: "+4915100000001"}]
    capabilities: {operations: [send_text, send_template, send_media, health]}
    timeouts: {default: 10, send_media: 30}
"""

from __future__ import annotations

import importlib
import re
import warnings
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from ground.durations import Seconds
from ground.errors import ConfigError
from ground.loading import _line_of, validate, validation_error
from plan.numbers import MAX_NUMBERS, MAX_WEIGHT, BusinessNumber, SpreadName
from plan.operations import OPERATIONS, Operation

_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*|\[?[0-9a-f:.]+\]?")
_PHONE = re.compile(r"\+?[1-9][0-9]{6,14}")
MAX_TIMEOUT_S = 600.0
MAX_RECIPIENTS = 1_000
MOCK_TEST_RECIPIENT = "+15550100001"  # fictional (NANP 555-01xx): a one-off test message that only the mock receives
RECIPIENTS_FIX = (
    'list the E.164 numbers of test phones you own, e.g. recipients: ["+4915112345678"] (scrmbench sends to those only)'
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.fullmatch(value):
        raise ValueError(
            "must be the NAME of an environment variable (upper case letters, digits, '_'), never the secret itself"
        )
    return value


class AuthConfig(_Strict):
    """How requests authenticate; only environment variable names, never values."""

    scheme: Literal["none", "bearer", "basic", "header"] = "none"
    token_env: str | None = None  # bearer and header schemes
    username_env: str | None = None  # basic
    password_env: str | None = None  # basic
    header: str | None = None  # header scheme: the header's name, e.g. D360-API-KEY
    # A well-known development value (e.g. the reference vendor's "reference-api-key") used only when the
    # variable is unset AND the target is loopback; never a real secret.
    dev_default: str | None = None

    _check_env = field_validator("token_env", "username_env", "password_env")(_env_name)

    @field_validator("header")
    @classmethod
    def _header_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,64}", value):
            raise ValueError("a header name has letters, digits and '-' only")
        return value

    @model_validator(mode="after")
    def _scheme_needs(self) -> AuthConfig:
        if self.scheme in ("bearer", "header") and not self.token_env:
            raise ValueError(f"scheme '{self.scheme}' needs token_env (the variable holding the token)")
        if self.scheme == "header" and not self.header:
            raise ValueError("scheme 'header' needs header (the header's name, e.g. D360-API-KEY)")
        if self.scheme == "basic" and not (self.username_env and self.password_env):
            raise ValueError("scheme 'basic' needs username_env and password_env")
        return self


class PhoneNumber(_Strict):
    number: str  # E.164, '+' optional
    id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$")  # the Cloud API phone-number id behind it
    label: str = ""
    weight: int = Field(default=1, ge=1, le=MAX_WEIGHT)  # its share of the load (plan.numbers): weight / Σ weights

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str) -> str:
        if not _PHONE.fullmatch(value):
            raise ValueError("must be an E.164 number: optional '+', 7 to 15 digits, no spaces")
        return value

    @property
    def digits(self) -> str:
        return self.number.lstrip("+")

    def business_number(self) -> BusinessNumber:
        """The number as the load spreads it: its id, else its digits (what the run's mock is configured with)."""
        return BusinessNumber(self.number, self.id or self.digits, self.weight)


class PhoneNumberRange(_Strict):
    """``count`` consecutive numbers from ``first`` (ids consecutive from ``first_id``, else each number's digits),
    added after ``phone_numbers``: a profile for an admin running 50–200 numbers without listing each one.

        phone_number_range: {first: "+15550001000", first_id: "100000000001000", count: 50}
    """

    first: str
    first_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$")
    count: int = Field(ge=1, le=MAX_NUMBERS)
    weight: int = Field(default=1, ge=1, le=MAX_WEIGHT)
    label: str = ""

    @field_validator("first")
    @classmethod
    def _e164(cls, value: str) -> str:
        if not _PHONE.fullmatch(value):
            raise ValueError("must be an E.164 number: optional '+', 7 to 15 digits, no spaces")
        return value

    @model_validator(mode="after")
    def _fits(self) -> PhoneNumberRange:
        digits = self.first.lstrip("+")
        last = int(digits) + self.count - 1
        if len(str(last)) != len(digits):
            raise ValueError(
                f"{self.count} numbers from {self.first} run past {len(digits)} digits (the last would be +{last})"
            )
        if self.first_id is not None and len(str(int(self.first_id) + self.count - 1)) > 20:
            raise ValueError(f"{self.count} ids from {self.first_id} run past 20 digits")
        return self

    def expand(self) -> list[PhoneNumber]:
        plus = "+" if self.first.startswith("+") else ""
        start = int(self.first.lstrip("+"))
        numbers = []
        for offset in range(self.count):
            number_id = None if self.first_id is None else str(int(self.first_id) + offset)
            label = f"{self.label}{offset + 1}" if self.label else ""
            numbers.append(PhoneNumber(number=f"{plus}{start + offset}", id=number_id, label=label, weight=self.weight))
        return numbers


class Capabilities(_Strict):
    operations: list[Operation] = Field(min_length=1)
    can_point_at_mock: bool = False  # the vendor can be configured to use our mock instead of Meta
    mock_url: str | None = None  # the mock's base URL the vendor is configured with

    @field_validator("operations")
    @classmethod
    def _unique(cls, value: list[Operation]) -> list[Operation]:
        if len(set(value)) != len(value):
            raise ValueError("an operation is listed twice")
        return value

    @field_validator("mock_url")
    @classmethod
    def _mock_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not info.data.get("can_point_at_mock"):
            raise ValueError("is set but can_point_at_mock is false; set can_point_at_mock: true or drop mock_url")
        return _http_url(value)


_Seconds = Field(default=None, gt=0, le=MAX_TIMEOUT_S)


class Timeouts(_Strict):
    """Seconds to wait for each operation's answer (``30``, ``30s``, ``1m``, ``500ms``); ``default`` covers the rest."""

    default: Seconds = Field(default=10.0, gt=0, le=MAX_TIMEOUT_S)
    send_text: Seconds | None = _Seconds
    send_template: Seconds | None = _Seconds
    send_media: Seconds | None = _Seconds
    upload_media: Seconds | None = _Seconds
    search_conversations: Seconds | None = _Seconds
    assign_conversation: Seconds | None = _Seconds
    health: Seconds | None = _Seconds

    def for_operation(self, operation: str) -> float:
        value = getattr(self, operation, None)
        return float(value) if value is not None else self.default


class ReportBehaviour(_Strict):
    """A facade that reports dishonestly, with documented truth (docs/hosted-vendors.md, "A dishonest reference").

    ``drop_share`` of the messages are acknowledged (201 with a sid) and never forwarded to WhatsApp;
    ``report_dropped_as: delivered`` then sends ``sent`` and ``delivered`` callbacks for them anyway;
    ``fake_read_share`` of the delivered messages get a ``read`` callback whatever the customer did (chosen by a
    hash of the wamid, independent of the mock's own read draw), so the reported read rate is
    ``true + fake_read_share × (1 − true)`` of the delivered messages. Twilio facade only."""

    drop_share: float = Field(default=0.0, ge=0, le=1)
    report_dropped_as: Literal["nothing", "delivered"] = "nothing"
    fake_read_share: float = Field(default=0.0, ge=0, le=1)

    def as_args(self) -> list[str]:
        return [
            "--drop-share",
            repr(self.drop_share),
            "--report-dropped-as",
            self.report_dropped_as,
            "--fake-read-share",
            repr(self.fake_read_share),
        ]


class LaunchConfig(_Strict):
    """What the runner starts on loopback before a trial; ``none`` means the vendor is already running.

    ``reference`` / ``ha-pair``: the mock and a reference vendor (``profile`` names its behaviour, e.g. steady or
    fast-failover); ``container``: the same reference vendor in a container scrmbench builds and owns (host
    networking, labelled for the container faults; ``harness.stack.container``); ``facade``: the mock and a BSP
    facade of ``dialect``; ``mock``: the mock alone, which is then the target itself (the Cloud API shape spoken
    directly).
    """

    kind: Literal["none", "reference", "ha-pair", "container", "facade", "mock"] = "none"
    profile: str | None = None  # reference / ha-pair / container behaviour profile: steady, degrading, lossy, ...
    dialect: Literal["twilio", "wati", "360dialog"] | None = None  # facade kind only
    port: int | None = Field(default=None, ge=1024, le=65535)  # None: a free port, base_url rewritten
    reports: ReportBehaviour | None = None  # facade kind, twilio dialect: a dishonest reference (see above)

    @model_validator(mode="after")
    def _kind_needs(self) -> LaunchConfig:
        if self.reports is not None and (self.kind != "facade" or self.dialect != "twilio"):
            raise ValueError("launch.reports (a dishonest reference) needs kind 'facade' with dialect 'twilio'")
        if self.kind in ("reference", "ha-pair", "container") and not self.profile:
            raise ValueError(f"launch kind '{self.kind}' needs profile (e.g. steady)")
        if self.kind == "facade" and not self.dialect:
            raise ValueError("launch kind 'facade' needs dialect (twilio, wati or 360dialog)")
        return self


class FailoverConfig(_Strict):
    """How failover scenarios take the vendor's primary down."""

    # upstream: the vendor's own upstream (the mock WhatsApp API) goes down instead of the vendor.
    method: Literal["process", "container", "proxy", "upstream"]
    # container name for 'container' (with launch.kind container: optional, the name given to the container the
    # run starts); ignored otherwise
    target: str | None = None
    notes: str = ""


class CallbacksConfig(_Strict):
    """The run's callback receiver (``harness.callbacks``): where a hosted vendor reports what became of each message.

    The receiver listens on ``host:port`` (loopback and a free port by default) under a secret path made for each
    run; a vendor on the internet reaches it only through the user's own tunnel or ingress, whose public base URL
    is ``public_url`` (docs/hosted-vendors.md). ``dialect`` says how to read and check the callbacks (twilio,
    cloud-api, wati, generic; ``options`` holds the generic mapping); ``secret_env`` the variable with the signing
    key (default: the profile's auth secret, Twilio's auth token). Past ``max_per_s`` callbacks a second (bursts
    of ``burst``) the receiver answers 429 and counts the shed callbacks in the manifest."""

    dialect: str
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)  # 0: a free port
    public_url: str | None = None  # https://abc.example-tunnel.net: what the vendor is told; None: the local URL
    secret_env: str | None = None
    max_per_s: float = Field(default=500.0, gt=0, le=100_000)
    burst: int = Field(default=1000, ge=1, le=1_000_000)
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("secret_env")
    @classmethod
    def _secret_env(cls, value: str | None) -> str | None:
        return _env_name(value)

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value).rstrip("/")


class VendorProfile(_Strict):
    name: str
    adapter: str
    base_url: str
    auth: AuthConfig = AuthConfig()
    phone_numbers: list[PhoneNumber] = Field(min_length=1)
    # More numbers after the listed ones (plan.numbers spreads every scenario's sends over all of them).
    phone_number_range: PhoneNumberRange | None = None
    # Which number a send goes out from: the customer's own (default) or the numbers in turn (plan.numbers).
    number_spread: SpreadName = "customer"
    capabilities: Capabilities
    timeouts: Timeouts = Timeouts()
    allowed_targets: list[str] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)  # adapter-specific, checked by the adapter
    launch: LaunchConfig = LaunchConfig()
    failover: FailoverConfig | None = None
    callbacks: CallbacksConfig | None = None  # a callback receiver for the vendor's own status reports
    # The buyer's own test phones (E.164): when set, the only numbers the load and ``vendors check`` send to; for a
    # hosted vendor (``sends_reach_real_people``) required, since every send there reaches a real WhatsApp user.
    recipients: list[str] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    notes: str = ""

    @field_validator("failover")
    @classmethod
    def _failover_fits_launch(cls, failover: FailoverConfig | None, info: ValidationInfo) -> FailoverConfig | None:
        # Checked here, not when the fault fires: a run must not load a vendor for minutes and then find it has
        # nothing to kill. ``launch`` is declared before ``failover``, so it is validated already.
        launch = info.data.get("launch")
        kind = launch.kind if isinstance(launch, LaunchConfig) else "none"
        if failover is None:
            return failover
        if failover.method == "container" and not failover.target and kind != "container":
            raise ValueError(
                "failover method 'container' needs target: the name of a container scrmbench started "
                "(labelled org.scrmbench.managed=true), or launch.kind container to have the run start one"
            )
        if kind == "container" and failover.method == "process":
            raise ValueError(
                "failover method 'process' cannot kill a vendor running in a container; "
                "use method container (or proxy, upstream) with launch.kind container"
            )
        return failover

    @field_validator("phone_number_range")
    @classmethod
    def _numbers_bounded(cls, value: PhoneNumberRange | None, info: ValidationInfo) -> PhoneNumberRange | None:
        # Checked here, with the range: the listed numbers are validated already (declared before it).
        listed = info.data.get("phone_numbers") or []
        numbers = [*listed, *(value.expand() if value is not None else [])]
        if len(numbers) > MAX_NUMBERS:
            raise ValueError(
                f"{len(listed)} listed numbers and {len(numbers) - len(listed)} in the range make {len(numbers)}, "
                f"more than {MAX_NUMBERS}"
            )
        _unique_numbers(numbers)
        return value

    @field_validator("phone_numbers")
    @classmethod
    def _listed_unique(cls, value: list[PhoneNumber]) -> list[PhoneNumber]:
        if len(value) > MAX_NUMBERS:
            raise ValueError(f"{len(value)} numbers, more than {MAX_NUMBERS}")
        _unique_numbers(value)
        return value

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.fullmatch(value):
            raise ValueError(
                "must be a short lower-case slug: letters, digits, '.', '_', '-' (it names result folders)"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _http_url(value).rstrip("/")

    @field_validator("allowed_targets")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not _HOST.fullmatch(host.lower()) or "*" in host:
                raise ValueError(f"{host!r} is not a bare host name (no scheme, port, path or wildcard)")
        return [host.lower() for host in value]

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for number in value:
            if not _PHONE.fullmatch(number):
                raise ValueError(f"{number!r} must be an E.164 number: optional '+', 7 to 15 digits, no spaces")
            if number.lstrip("+") in seen:
                raise ValueError(f"the number +{number.lstrip('+')} is listed twice")
            seen.add(number.lstrip("+"))
        return value

    @property
    def sends_reach_real_people(self) -> bool:
        """A hosted vendor: the run starts nothing and the vendor cannot be pointed at the mock, so every message
        it is asked to send goes to a real WhatsApp user (and is paid for by the buyer)."""
        return self.launch.kind == "none" and not self.capabilities.can_point_at_mock

    def fixed_recipients(self, *, source: str | None = None) -> tuple[str, ...]:
        """The numbers the load may send to, as WhatsApp ids (digits): ``recipients``, or () for generated customers
        (a vendor whose sends reach the mock only). A hosted vendor without ``recipients`` is refused (exit 2)."""
        if self.sends_reach_real_people and not self.recipients:
            raise ConfigError(
                "this vendor cannot be pointed at the mock (capabilities.can_point_at_mock is false, launch.kind "
                "none), so every message reaches a real WhatsApp user, and the profile names no recipients; "
                "scrmbench never invents recipients for such a vendor",
                source=source,
                field="recipients",
                value=self.recipients,
                fix=RECIPIENTS_FIX,
            )
        return tuple(number.lstrip("+") for number in self.recipients)

    def test_recipient(self, to: str | None = None, *, source: str | None = None, field: str = "--to") -> str:
        """The number a one-off test message goes to (``vendors check``, the Locust probe): for a hosted vendor one of
        ``recipients`` (``to`` or the first; never an invented one), else ``to``, the first recipient, or a
        fictional number the mock receives."""
        recipients = self.fixed_recipients(source=source)  # a hosted vendor without recipients: exit 2
        if to is not None and self.sends_reach_real_people and to.lstrip("+") not in recipients:
            raise ConfigError(
                "this vendor's messages reach real WhatsApp users, so they go only to the profile's recipients",
                source=source,
                field=field,
                value=to,
                fix=f"pass one of recipients ({', '.join('+' + number for number in recipients)}), or add the "
                "number to recipients in the profile if it is a test phone you own",
            )
        if to is not None:
            return to
        return f"+{recipients[0]}" if recipients else MOCK_TEST_RECIPIENT

    @property
    def phone(self) -> PhoneNumber:
        return self.phone_numbers[0]

    @property
    def all_numbers(self) -> list[PhoneNumber]:
        """The listed numbers, then the range's."""
        extra = self.phone_number_range.expand() if self.phone_number_range is not None else []
        return [*self.phone_numbers, *extra]

    def business_numbers(self) -> tuple[BusinessNumber, ...]:
        """Every number the load spreads its sends over (plan.numbers), in profile order."""
        return tuple(number.business_number() for number in self.all_numbers)

    def public_dict(self) -> dict[str, Any]:
        """The profile as written to manifest.json: env names only, dev defaults dropped."""
        data = self.model_dump(mode="json")
        data["auth"].pop("dev_default", None)
        return data


def _unique_numbers(numbers: list[PhoneNumber]) -> None:
    seen_numbers: set[str] = set()
    seen_ids: set[str] = set()
    for number in numbers:
        key = number.business_number()
        if number.digits in seen_numbers:
            raise ValueError(f"the number +{number.digits} is listed twice")
        if key.id in seen_ids:
            raise ValueError(f"the phone-number id {key.id} is used twice (a number without id uses its digits)")
        seen_numbers.add(number.digits)
        seen_ids.add(key.id)


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL such as http://127.0.0.1:8900")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials; put them in environment variables named under auth")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query string or fragment")
    try:
        parts.port  # noqa: B018  (raises on an out-of-range port)
    except ValueError as exc:
        raise ValueError(f"has a bad port ({exc})") from None
    return value


# Fixes by the last part of the field's name, for errors whose generic fix would be "see the documentation".
_FIELD_FIXES = {
    "name": "use something like acme-prod (lower case, digits, '.', '_', '-')",
    "base_url": "write it as http://127.0.0.1:PORT or https://api.vendor.com, credentials in auth env vars",
    "mock_url": "write it as http://127.0.0.1:8900 and set can_point_at_mock: true",
    "token_env": "name the variable (e.g. ACME_API_KEY) and export the secret in your shell",
    "username_env": "name the variable (e.g. ACME_USER) and export the value in your shell",
    "password_env": "name the variable (e.g. ACME_PASSWORD) and export the secret in your shell",
    "header": "give the header's name, e.g. D360-API-KEY",
    "auth": "see the auth block of the shipped examples in vendors/",
    "number": "write it as +4915112345678",
    "phone_numbers": 'list at least one number, each once, e.g. - number: "+4915112345678"',
    "phone_number_range": 'give first, count (and first_id), e.g. {first: "+15550001000", count: 50}, '
    f"at most {MAX_NUMBERS} numbers in all, none twice",
    "first": "write it as +15550001000",
    "first_id": "write the Cloud API phone-number id as digits, e.g. 100000000001000",
    "count": f"give a whole number from 1 to {MAX_NUMBERS}",
    "weight": f"give a whole number from 1 to {MAX_WEIGHT} (its share of the load)",
    "allowed_targets": "list bare host names such as api.vendor.com",
    "recipients": RECIPIENTS_FIX,
    "operations": "list each operation once, from: " + ", ".join(OPERATIONS),
    "launch": "see the launch block of vendors/reference-steady.yaml or vendors/twilio-facade.yaml",
    "failover": "see the failover block of vendors/reference-ha-pair.yaml or vendors/reference-container-failover.yaml",
    "account_sid": "copy the Account SID from the Twilio console: AC followed by 32 hex digits",
    "api_prefix": "write it as /api/v1 or /{tenantId}/api/v1",
    "api_version": "write it as v23.0",
    "path": "write a path relative to base_url starting with '/', e.g. /v1/messages",
    "status": "list HTTP status codes between 100 and 599",
    "health_path": "write a path starting with '/'",
}


def refined_error(exc: ValidationError, data: Any, *, source: str, prefix: str = "") -> ConfigError:
    """``validation_error`` with pydantic's "Value error, " prefix dropped and a field-specific fix."""
    error = validation_error(exc, data, source=source)
    first = exc.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    others = len(exc.errors()) - 1
    if others:
        message += f" ({others} more problem{'s' if others > 1 else ''} after this one)"
    fix = error.fix
    if first["type"] in ("value_error", "string_pattern_mismatch", "too_short", "assertion_error") or not fix:
        last = str(next((part for part in reversed(first["loc"]) if isinstance(part, str)), ""))
        fix = _FIELD_FIXES.get(last, fix)
    field = f"{prefix}{error.field}" if error.field else prefix.rstrip(".")
    return ConfigError(message, source=source, field=field, value=error.value, fix=fix, line=error.line)


def validate_profile(data: Any, *, source: str) -> VendorProfile:
    """Validate parsed YAML against the profile model only; ``harness.adapters.registry.parse_profile`` then
    checks it against its adapter (known name, operations, options)."""
    if not isinstance(data, Mapping):
        validate(VendorProfile, data, source=source)  # raises the shared "empty file" / "expected a mapping"
    try:
        return VendorProfile.model_validate(dict(data))
    except ValidationError as exc:
        raise refined_error(exc, data, source=source) from None


def profile_error(message: str, *, source: str, field: str, value: object, fix: str, data: Any = None) -> ConfigError:
    """A ConfigError for a semantic problem found after validation, with the YAML line when known."""
    loc = tuple(int(part) if part.isdigit() else part for part in field.replace("[", ".").replace("]", "").split("."))
    return ConfigError(message, source=source, field=field, value=value, fix=fix, line=_line_of(data, loc))


_MOVED = {"load_profile", "parse_profile"}


def __getattr__(name: str) -> Any:
    """``load_profile`` and ``parse_profile`` moved to ``harness.adapters.registry`` (they check the adapter)."""
    if name in _MOVED:
        warnings.warn(
            f"harness.config.profiles.{name} moved to harness.adapters.registry.{name}; "
            "the old name goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        # By name, not an import statement: this shim must not draw the profiles → adapters arrow back in.
        return getattr(importlib.import_module("harness.adapters.registry"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["OPERATIONS", "VendorProfile", "validate_profile"]
