"""The correlation token: defined once, written by the harness, found by the mock.

Every message the harness asks a vendor to send carries a token in a place the vendor must pass through (text
body, template parameter, caption, ``biz_opaque_callback_data``). The mock extracts it on arrival, so
accounting never trusts vendor message ids. The token is lower-case letters, digits and hyphens only, so it survives
template-parameter sanitising, URL encoding and form encoding unchanged.

    sb-<run tag: 6 base36>-<sequence: base36, the worker's index folded in>
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

TOKEN_PREFIX = "sb-"
TOKEN_PATTERN = re.compile(r"sb-[0-9a-z]{6}-[0-9a-z]{1,16}")
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    if number < 0:
        raise ValueError("a sequence number is never negative")
    digits = []
    while True:
        number, rest = divmod(number, 36)
        digits.append(_ALPHABET[rest])
        if number == 0:
            return "".join(reversed(digits))


def new_run_tag() -> str:
    """Six random base36 characters naming one run."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(6))


_RUN_TAG = re.compile(r"[0-9a-z]{6}")


def make_token(run_tag: str, worker: int, sequence: int) -> str:
    """The token for message ``sequence`` of ``worker`` in the run ``run_tag``.

    The worker index takes the low 10 bits, so workers never collide and tokens stay short.
    """
    if not _RUN_TAG.fullmatch(run_tag):
        raise ValueError(f"run tag {run_tag!r} must be 6 characters of [0-9a-z]")
    if not 0 <= worker < 1024:
        raise ValueError(f"worker index {worker} must be in 0..1023")
    return f"{TOKEN_PREFIX}{run_tag}-{_base36((sequence << 10) | worker)}"


def find_token(text: str | None) -> str | None:
    """The first correlation token in ``text``, or None."""
    if not text or TOKEN_PREFIX not in text:
        return None
    match = TOKEN_PATTERN.search(text)
    return match.group(0) if match else None


def find_token_in(texts: Iterable[str | None]) -> str | None:
    """The first token found in any of ``texts``, in order."""
    for text in texts:
        token = find_token(text)
        if token:
            return token
    return None
