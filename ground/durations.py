"""Human durations, one parser for every place a duration is typed: ``30``, ``30s``, ``1.5s``, ``500ms``, ``5m``,
``1h``, ``1h30m``.

Used by CLI options (``run --duration``, ``score --recovery-window``), scenario parameters (``--param
drain_s=30s``), fault schedules (``at: 60s``, ``every: 5m``), fault parameters and the vendor profile's
``timeouts``. A bare number is in the field's own unit: seconds, or milliseconds for a ``*_ms`` field (so
``reply_p95_ms=2s`` is 2000). Units: ``ms``, ``s``, ``m`` or ``min``, ``h``, largest first, each at most once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ValidationInfo, field_validator

Unit = Literal["s", "ms"]
ACCEPTED = "a number of seconds, or a duration such as 30s, 250ms, 1.5s, 5m, 1h or 1h30m"
_SECONDS = {"h": 3600.0, "m": 60.0, "min": 60.0, "s": 1.0, "ms": 0.001}
_RANK = {"h": 0, "m": 1, "min": 1, "s": 2, "ms": 3}
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|min|h|m|s)\s*")


def parse_duration(value: Any, *, unit: Unit = "s") -> float:
    """``value`` in ``unit`` (seconds by default): a number is already in it, a string may carry units.

    Raises ``ValueError`` (pydantic turns it into a field error) naming the accepted forms; a string never gives
    a negative value, and bounds on numbers are left to the field or option.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected {ACCEPTED}, got {value!r}")
    if isinstance(value, int | float):
        return float(value)  # its bounds are the field's (or the option's) to check
    text = value.strip()
    if _NUMBER.match(text):
        return float(text)
    seconds = _seconds(text)
    if seconds is None:
        raise ValueError(f"expected {ACCEPTED}, got {value!r}")
    return seconds if unit == "s" else seconds * 1000.0


def _seconds(text: str) -> float | None:
    position, total, last_rank = 0, 0.0, -1
    while position < len(text):
        match = _PART.match(text, position)
        if match is None:
            return None
        unit = match.group(2)
        if _RANK[unit] <= last_rank:  # 30m1h, 1h1h: units largest first, each once
            return None
        last_rank = _RANK[unit]
        total += float(match.group(1)) * _SECONDS[unit]
        position = match.end()
    return total if position else None


def duration_parser(minimum: float = 0.0) -> Callable[[str], float]:
    """A CLI option's parser (typer's ``parser=``): seconds from a human duration, at least ``minimum``.

    Its ``ValueError`` becomes the CLI's usage error naming the option and the value: exit 2, no traceback.
    """

    def parse(text: str) -> float:
        seconds = parse_duration(text)
        if not math.isfinite(seconds) or seconds < minimum:
            raise ValueError(f"expected a duration of at least {minimum:g} s ({ACCEPTED}), got {text!r}")
        return seconds

    return parse


# A field typed in seconds that also takes "30s", "5m", "1h30m".
Seconds = Annotated[float, BeforeValidator(parse_duration)]


class HumanDurations(BaseModel):
    """A model whose ``*_s`` fields (seconds) and ``*_ms`` fields (milliseconds) also take human durations."""

    @field_validator("*", mode="before")
    @classmethod
    def _human_duration(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or ""
        if not isinstance(value, str) or not name.endswith(("_s", "_ms")):
            return value
        return parse_duration(value, unit="ms" if name.endswith("_ms") else "s")
