"""Adapters by name: each entry knows its options model, its operations and the auth schemes it speaks.

``check_profile`` runs after pydantic has validated a profile and reports, with file/line/field/value/fix, an
unknown adapter, an operation the adapter lacks, or bad adapter options. ``create_adapter`` reads the secrets
the profile names from the environment and builds the adapter. Each adapter module adds itself to
``ADAPTERS`` (``harness.adapters.common``) at its end; the built-in modules are imported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ground.errors import ConfigError
from ground.loading import read_yaml
from ground.net import host_of, is_loopback
from ground.secrets import read_secret
from harness.adapters import cloud_api, generic_http, reference, twilio, wati  # noqa: F401  (each registers itself)
from harness.adapters.base import Adapter
from harness.adapters.common import ADAPTERS, AdapterSpec, Credentials
from harness.adapters.generic_http import GenericHttpOptions
from harness.callbacks import CALLBACK_OPTION
from harness.config.profiles import VendorProfile, profile_error, refined_error, validate_profile
from plan.operations import AGENT_NEEDED, SEGMENT_OPERATIONS


def register(spec: AdapterSpec) -> None:
    """Add an adapter (the built-in ones register themselves in their own modules)."""
    ADAPTERS.add(spec.name, spec)


def names() -> list[str]:
    return ADAPTERS.names()


def get(name: str) -> AdapterSpec:
    return ADAPTERS.get(name)


def options_for(profile: VendorProfile, *, source: str = "<profile>", data: Any = None) -> BaseModel:
    spec = get(profile.adapter)
    try:
        return spec.options_model.model_validate(profile.options)
    except ValidationError as exc:
        options_data = data.get("options") if isinstance(data, Mapping) else None
        raw = options_data if options_data is not None else profile.options
        raise refined_error(exc, raw, source=source, prefix="options.") from None


def check_profile(profile: VendorProfile, *, source: str = "<profile>", data: Any = None) -> None:
    try:
        spec = get(profile.adapter)
    except ConfigError as exc:
        raise profile_error(
            "no adapter has this name",
            source=source,
            field="adapter",
            value=profile.adapter,
            fix=exc.fix or "",
            data=data,
        ) from None
    for index, operation in enumerate(profile.capabilities.operations):
        if operation not in spec.operations:
            raise profile_error(
                f"the '{spec.name}' adapter has no such operation",
                source=source,
                field=f"capabilities.operations[{index}]",
                value=operation,
                fix=f"remove it; '{spec.name}' offers {', '.join(sorted(spec.operations))}",
                data=data,
            )
    if profile.auth.scheme not in spec.auth_schemes:
        raise profile_error(
            f"the '{spec.name}' adapter does not authenticate this way",
            source=source,
            field="auth.scheme",
            value=profile.auth.scheme,
            fix=f"use one of {', '.join(sorted(spec.auth_schemes))}",
            data=data,
        )
    options = options_for(profile, source=source, data=data)
    if isinstance(options, GenericHttpOptions):
        for index, operation in enumerate(profile.capabilities.operations):
            if operation not in options.operations:
                raise profile_error(
                    "the operation is declared but options.operations does not describe it",
                    source=source,
                    field=f"capabilities.operations[{index}]",
                    value=operation,
                    fix=f"add options.operations.{operation} (method, path, body, success) or remove it",
                    data=data,
                )


def takes_callback_url(profile: VendorProfile) -> bool:
    """Whether the profile's adapter sends a callback URL with every message (its options have ``status_callback``)."""
    return CALLBACK_OPTION in get(profile.adapter).options_model.model_fields


def callback_secret(profile: VendorProfile, *, environ: Mapping[str, str] | None = None) -> str | None:
    """The key the vendor signs its callbacks with: ``callbacks.secret_env``, else the profile's own auth secret
    (Twilio signs with the auth token). A development default applies to loopback-only receivers."""
    config = profile.callbacks
    if config is None:
        return None
    if config.secret_env:
        local = is_loopback(config.host) and config.public_url is None
        fallback = profile.auth.dev_default if local else None
        return read_secret(
            config.secret_env, source=profile.name, field="callbacks.secret_env", fallback=fallback, environ=environ
        )
    credentials = read_credentials(profile, environ=environ)
    return credentials.password or credentials.token


def check_callbacks(profile: VendorProfile, *, source: str = "<profile>") -> None:
    """A ``callbacks`` block's dialect and its options, checked when the profile is read, not when the run starts."""
    if profile.callbacks is None:
        return
    from harness.callbacks.dialects import create_dialect

    create_dialect(profile.callbacks.dialect, profile.callbacks.options, source=source)


def parse_profile(data: Any, *, source: str) -> VendorProfile:
    """Validate parsed YAML, then check it against its adapter (known name, operations, options) and its
    ``callbacks`` block against its dialect."""
    profile = validate_profile(data, source=source)
    check_profile(profile, source=source, data=data)
    check_callbacks(profile, source=source)
    return profile


def load_profile(path: Path | str) -> VendorProfile:
    """A vendor profile file (``vendors/*.yaml``), validated and checked against its adapter."""
    return parse_profile(read_yaml(path), source=str(path))


def read_credentials(profile: VendorProfile, *, environ: Mapping[str, str] | None = None) -> Credentials:
    """Secrets named by the profile; the dev default applies only to loopback targets."""
    auth = profile.auth
    fallback = auth.dev_default if is_loopback(host_of(profile.base_url)) else None

    def secret(env_name: str | None, field: str) -> str | None:
        if env_name is None:
            return None
        return read_secret(env_name, source=profile.name, field=field, fallback=fallback, environ=environ)

    if auth.scheme == "basic":
        return Credentials(
            username=secret(auth.username_env, "auth.username_env"),
            password=secret(auth.password_env, "auth.password_env"),
        )
    return Credentials(token=secret(auth.token_env, "auth.token_env"))


def create_adapter(profile: VendorProfile, *, environ: Mapping[str, str] | None = None) -> Adapter:
    spec = get(profile.adapter)
    options = options_for(profile, source=profile.name)
    return spec.factory(profile, read_credentials(profile, environ=environ), options)


def contact_centre_gaps(profile: VendorProfile) -> dict[str, tuple[str, ...]]:
    """The contact-centre calls ``profile`` cannot make, by what they measure: ``agents`` (of the calls agents
    cannot do without) and ``segment`` (tag, broadcast); a key only when something is missing. A profile can make
    the calls it declares that its dialect has."""
    offered = set(profile.capabilities.operations) & set(get(profile.adapter).operations)
    gaps = {
        "agents": tuple(op for op in AGENT_NEEDED if op not in offered),
        "segment": tuple(op for op in SEGMENT_OPERATIONS if op not in offered),
    }
    return {figure: missing for figure, missing in gaps.items() if missing}


def contact_centre_unmeasured(profile: VendorProfile, *, segment: bool) -> dict[str, str]:
    """``manifest.unmeasured`` entries for a contact-centre run against ``profile``: which figures are "not
    measured" (never zero) and which calls the dialect lacks (README, "Agents, tags and segments by adapter")."""
    gaps = contact_centre_gaps(profile)
    where = f"the '{profile.adapter}' dialect (profile {profile.name})"
    found: dict[str, str] = {}
    if "agents" in gaps:
        found["agents"] = (
            f"{where} lacks {', '.join(gaps['agents'])}: no agents ran, so assignment latency, first human "
            "response, occupancy and the queue are not measured"
        )
    if segment and "agents" in gaps:
        found["segment"] = "the segment is tagged and broadcast by the agents' desk, which did not run"
    elif segment and "segment" in gaps:
        found["segment"] = f"{where} lacks {', '.join(gaps['segment'])}: the segment broadcast is not measured"
    return found
