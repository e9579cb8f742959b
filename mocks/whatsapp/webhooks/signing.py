"""Webhook bodies as Meta serialises and signs them (reference §5.2).

Meta escapes every non-ASCII character as ``\\uXXXX`` in the bytes it signs, so a receiver that re-serialises the
parsed JSON computes a different HMAC; receivers must hash the exact bytes. We therefore serialise once, sign
those bytes, and send those same bytes.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import orjson

SIGNATURE_HEADER = "X-Hub-Signature-256"
USER_AGENT = "facebookexternalua"  # what Meta's webhook POSTs carry (whaloc; reference §5.2)


def serialize(payload: Any) -> bytes:
    """Compact JSON with non-ASCII escaped as ``\\uXXXX`` (surrogate pairs beyond the BMP), like Meta.

    orjson is several times faster but never escapes non-ASCII; most webhooks (every status) are pure ASCII, so
    we use it and fall back to the standard encoder only when the fast result is not ASCII.
    """
    fast = orjson.dumps(payload)
    if fast.isascii():
        return fast
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def signature(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value: ``sha256=`` + hex HMAC-SHA256 of the exact body, keyed by the app secret."""
    return "sha256=" + hmac.digest(app_secret.encode("utf-8"), body, "sha256").hex()  # OpenSSL's one-shot HMAC


def verify(app_secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the signature of ``body`` (constant-time comparison)."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(signature(app_secret, body), header)


def signed_headers(app_secret: str, body: bytes) -> dict[str, str]:
    """The headers of one webhook POST; httpx adds Content-Length from the body."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(app_secret, body),
    }
