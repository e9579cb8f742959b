"""Build validated settings from a profile name plus ``--set key=value`` overrides.

Overrides let tests and demos scale a profile down (``--set media_fail_after=5``, ``--set retry.enabled=false``)
without a new profile; bad keys or values become a ``ConfigError`` naming the field, the value and the fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ground.errors import ConfigError
from mocks.vendors.profiles import DEFAULT_TIME_SCALE, get_profile
from mocks.vendors.settings import FrontSettings, VendorSettings

M = TypeVar("M", bound=BaseModel)


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``["retry.enabled=false", "workers=2"]`` → ``{"retry": {"enabled": False}, "workers": 2}``.

    Two items that make one key both a value and a section (``workers=2`` and ``workers.x=1``, in either order)
    are a ``ConfigError`` naming the second, not a crash or a silent overwrite."""
    result: dict[str, Any] = {}
    sections: dict[str, str] = {}  # dotted key of each section → the item that made it one
    values: dict[str, str] = {}  # dotted key of each value → its item
    for item in items:
        key, sep, raw = item.partition("=")
        parts = [part.strip() for part in key.split(".")]
        if not sep or not all(parts):
            raise ConfigError(
                "an override must look like KEY=VALUE (KEY: names joined by dots)",
                field="--set",
                value=item,
                fix="e.g. --set workers=2 --set retry.enabled=false",
            )
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw  # a bare string
        node = result
        for depth, part in enumerate(parts[:-1]):
            path = ".".join(parts[: depth + 1])
            if path in values:
                raise _conflict(item, path, values[path], "a value")
            sections.setdefault(path, item)
            node = node.setdefault(part, {})
        full = ".".join(parts)
        if full in sections:
            raise _conflict(item, full, sections[full], "a section")
        values[full] = item
        node[parts[-1]] = value
    return result


def _conflict(item: str, key: str, earlier: str, was: str) -> ConfigError:
    return ConfigError(
        f"{key} was made {was} by --set {earlier}, so this cannot also set it",
        field="--set",
        value=item,
        fix=f"keep only one of --set {earlier} and --set {item}",
    )


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _validate(model: type[M], data: dict[str, Any], source: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            first["msg"],
            source=source,
            field=field,
            value=first.get("input"),
            fix=f"see the fields of {model.__name__} in mocks/vendors/settings.py",
        ) from exc


def build_settings(
    profile: str,
    overrides: dict[str, Any] | None = None,
    *,
    time_scale: float = DEFAULT_TIME_SCALE,
) -> tuple[VendorSettings, FrontSettings | None]:
    """The instance settings and, for an HA profile, the front settings (keys under ``front``)."""
    spec = get_profile(profile, time_scale)
    overrides = dict(overrides or {})
    front_overrides = overrides.pop("front", {})
    settings = _validate(VendorSettings, _merge(spec.overrides, overrides), f"profile {profile!r} with --set")
    front = spec.front
    if front is not None or front_overrides:
        base = front.model_dump() if front is not None else {}
        front = _validate(FrontSettings, _merge(base, front_overrides), f"profile {profile!r} front with --set")
    return settings, front
