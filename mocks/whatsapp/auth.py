"""Graph access tokens (reference §2): good -> pass; expired -> 401/190/463; bad -> 401/190; missing -> the
configured code (190 or 104) and status (401 or 400)."""

from __future__ import annotations

from urllib.parse import parse_qs

from mocks.whatsapp.config import AuthConfig
from mocks.whatsapp.errors import GraphError, expired_token


def token_from(header: str | None, query_string: bytes | str) -> str | None:
    """The access token from ``Authorization: Bearer ...`` (or ``OAuth ...``), else the ``access_token`` query."""
    if header is not None:
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() in ("bearer", "oauth") else header.strip()
    if query_string:
        text = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
        values = parse_qs(text).get("access_token")
        return values[0] if values else None
    return None


def check_token(auth: AuthConfig, token: str | None) -> None:
    if not token:
        raise GraphError(
            auth.missing_token_code,
            http_status=auth.missing_token_http_status,
            title="An access token is required to request this resource.",
            with_error_data=False,
        )
    if token in auth.access_tokens:
        return
    if token in auth.expired_tokens:
        raise expired_token()
    raise GraphError(190, http_status=401, with_error_data=False)
