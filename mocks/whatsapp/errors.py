"""Graph API errors: one table of codes, one exception, one renderer for the exact envelope (reference §3).

    {"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429,
               "error_data": {"messaging_product": "whatsapp", "details": "..."}, "fbtrace_id": "A..."}}

Handlers raise ``GraphError(code, details)``; the app's exception handler renders it. Throttling codes take the
configured rate-limit HTTP status (400 by default, as production clients observe; 429 on request).
"""

from __future__ import annotations

import base64
import itertools
import os
from dataclasses import dataclass

import orjson
from starlette.responses import Response

# code -> (title, default HTTP status)
CODES: dict[int, tuple[str, int]] = {
    0: ("AuthException", 401),
    1: ("API Unknown", 400),
    2: ("Service temporarily unavailable", 503),
    4: ("Application request limit reached", 400),
    10: ("Permission denied", 403),
    100: ("Invalid parameter", 400),
    104: ("An access token is required to request this resource.", 400),
    190: ("Invalid OAuth access token - Cannot parse access token", 401),
    80007: ("Rate limit issues", 400),
    130429: ("Rate limit hit", 400),
    131000: ("Something went wrong", 500),
    131005: ("Access denied", 403),
    131008: ("Required parameter is missing", 400),
    131009: ("Parameter value is not valid", 400),
    131016: ("Service unavailable", 503),
    131021: ("Recipient cannot be sender", 400),
    131026: ("Message undeliverable", 400),
    131031: ("Account has been locked", 403),
    # A BSUID recipient on a template category that cannot be sent to one (docs/whatsapp-2026.md §5; the
    # title is the mock's own, no Meta page read for this work gives it).
    131062: ("Business-scoped user ID not supported for this message", 400),
    131042: ("Business eligibility payment issue", 400),
    131047: ("Re-engagement message", 400),
    131048: ("Spam rate limit hit", 400),
    131051: ("Unsupported message type", 400),
    131053: ("Media upload error", 400),
    131056: ("(Business Account, Consumer Account) pair rate limit hit", 400),
    131057: ("Account in maintenance mode", 500),
    132000: ("Number of parameters does not match the expected number of params", 400),
    132001: ("Template name does not exist in the translation", 404),
    133004: ("Server temporarily unavailable", 503),
    133010: ("Phone number not registered", 400),
}
THROTTLING_CODES = frozenset({4, 80007, 130429, 131048, 131056})
_EXPIRED_TITLE = "Error validating access token: Session has expired"


def title_of(code: int) -> str:
    return CODES.get(code, ("Unknown error", 400))[0]


@dataclass(eq=False)
class GraphError(Exception):
    """A Graph API error answer; ``http_status`` None means the table's (or the rate-limit setting's) status."""

    code: int
    details: str = ""
    http_status: int | None = None
    subcode: int | None = None
    title: str | None = None
    with_error_data: bool = True

    def __post_init__(self) -> None:
        super().__init__(f"({self.code}) {self.details}")


def unknown_object(object_id: str) -> GraphError:
    """Graph's answer for an id that does not exist or expired: 400, code 100, subcode 33."""
    return GraphError(
        100,
        http_status=400,
        subcode=33,
        title=(
            f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation"
        ),
        with_error_data=False,
    )


def expired_token() -> GraphError:
    return GraphError(190, http_status=401, subcode=463, title=_EXPIRED_TITLE, with_error_data=False)


class TraceIds:
    """Opaque ``fbtrace_id`` values, unique per process, cheap enough for the hot path."""

    def __init__(self) -> None:
        self._prefix = base64.urlsafe_b64encode(os.urandom(6)).decode()
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"A{self._prefix}{next(self._counter):x}"


def envelope(error: GraphError, fbtrace_id: str) -> dict[str, object]:
    title = error.title or title_of(error.code)
    body: dict[str, object] = {"message": f"(#{error.code}) {title}", "type": "OAuthException", "code": error.code}
    if error.code == 190 or (error.code == 100 and error.subcode == 33):
        body["message"] = title  # Graph writes auth and unknown-object messages without the "(#code)" prefix
    if error.with_error_data:
        body["error_data"] = {"messaging_product": "whatsapp", "details": error.details or title}
    if error.subcode is not None:
        body["error_subcode"] = error.subcode
    body["fbtrace_id"] = fbtrace_id
    return {"error": body}


def status_of(error: GraphError, rate_limit_http_status: int) -> int:
    if error.http_status is not None:
        return error.http_status
    if error.code in THROTTLING_CODES:
        return rate_limit_http_status
    return CODES.get(error.code, ("", 400))[1]


def render(error: GraphError, fbtrace_id: str, rate_limit_http_status: int = 400) -> Response:
    headers = {"www-authenticate": 'OAuth "Facebook Platform" "invalid_token"'} if error.code == 190 else None
    return Response(
        orjson.dumps(envelope(error, fbtrace_id)),
        status_code=status_of(error, rate_limit_http_status),
        media_type="application/json",
        headers=headers,
    )
