"""Send adapter requests through a Locust user's own client (FastHttpSession or HttpSession).

Locust then times the request and fires ``events.request`` itself; this executor interprets the answer with the
adapter inside ``catch_response``, marks success or failure, and adds the record fields (operation, outcome,
vendor message id, correlation id, bytes sent, and whatever the caller put in ``context``, such as
``scheduled_at``) to the request's ``context``, where ``harness.recorder`` reads them.

Per-operation timeouts (the profile's ``timeouts``, e.g. ``send_media: 30``): HttpSession takes them per request.
FastHttpSession has none (only its user's ``network_timeout``, 60 s by default, per socket operation), so the
whole exchange (connect, send, read the body) runs under a ``gevent.Timeout`` of the operation's timeout; when it
fires, the request is recorded as ``indeterminate`` / ``timeout`` at about that timeout (it may have been sent).

Redirects are never followed (both Locust clients follow them by default): a 3xx is recorded as the vendor's
answer, naming the host it pointed to, so the load never reaches a host the target check did not allow.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import gevent

from ground.net import check_target
from harness.adapters.base import (
    Adapter,
    HttpRequest,
    HttpResponse,
    Outcome,
    TransportFailure,
    interpret_answer,
    transport_outcome,
)
from harness.adapters.executors import failure_message, outcome_context


def _innermost(error: BaseException) -> BaseException:
    """The error under the wrappers (geventhttpclient's RetriesExceeded.original, urllib3's .reason, causes)."""
    for _ in range(8):
        inner = getattr(error, "original", None) or getattr(error, "reason", None) or error.__cause__
        if not isinstance(inner, BaseException) or inner is error:
            break
        error = inner
    return error


def _transport_failure(error: BaseException | None) -> TransportFailure:
    if error is None:
        return TransportFailure("transport", "no answer", maybe_sent=True)
    inner = _innermost(error)
    detail = f"{type(error).__name__}: {error}"
    text = f"{type(inner).__name__} {inner} {detail}".lower()
    if isinstance(inner, ConnectionRefusedError) or "refused" in text or "newconnectionerror" in text:
        return TransportFailure("transport", detail, maybe_sent=False)  # never reached the vendor
    if isinstance(inner, TimeoutError | socket.timeout | gevent.Timeout) or "timed out" in text or "timeout" in text:
        return TransportFailure("timeout", detail, maybe_sent=True)
    return TransportFailure("transport", detail, maybe_sent=True)


class LocustExecutor:
    """``LocustExecutor(self.client, base_url=self.host, allowed_targets=..., owner_confirmed=...)`` in a User."""

    def __init__(
        self,
        client: Any,
        *,
        base_url: str,
        allowed_targets: tuple[str, ...] | list[str] = (),
        owner_confirmed: bool = False,
    ) -> None:
        check_target(base_url, allowed_targets, owner_confirmed=owner_confirmed)
        self.client = client
        self.base_url = base_url.rstrip("/")
        # requests-based HttpSession takes timeout=; FastHttpSession would pass it on to the socket layer and fail.
        self._per_request_timeout = type(client).__name__ == "HttpSession"

    def execute(self, adapter: Adapter, request: HttpRequest, context: Mapping[str, Any] | None = None) -> Outcome:
        ctx: dict[str, Any] = {
            "operation": request.operation,
            "correlation_id": request.correlation_id,
            "bytes_sent": len(request.body),
            **(context or {}),
        }
        kwargs: dict[str, Any] = {
            "name": request.operation,
            "headers": dict(request.headers),
            "catch_response": True,
            "context": ctx,
            "allow_redirects": False,  # a 3xx is the vendor's answer; the load never goes to another host
        }
        if request.body:
            kwargs["data"] = request.body
        manager, expired = self._send(request, kwargs)
        with manager as response:
            status = int(getattr(response, "status_code", 0) or 0)
            if expired:
                result = transport_outcome(request, _timed_out(request))
            elif status == 0:
                failure = _transport_failure(getattr(response, "error", None))
                result = transport_outcome(request, failure)
            else:
                body = response.content or b""
                answer = HttpResponse(status, body, _plain_headers(response.headers))
                result = interpret_answer(adapter, request, answer, self.base_url + request.path)
            meta = getattr(response, "request_meta", None)
            if isinstance(meta, dict):
                meta["context"].update(outcome_context(result))
                result = _with_latency(result, meta.get("response_time"))
            if result.ok:
                response.success()
            else:
                response.failure(failure_message(result))
        return result

    def _send(self, request: HttpRequest, kwargs: dict[str, Any]) -> tuple[Any, bool]:
        """Send under the operation's timeout; the response context manager and whether the timeout fired."""
        if self._per_request_timeout:
            return self.client.request(request.method, request.path, timeout=request.timeout, **kwargs), False
        # Locust catches gevent.Timeout inside the request (it is one of its failure exceptions) and hands back an
        # error response, timed by itself; nothing yields between the request's return and close() below.
        timer = gevent.Timeout(request.timeout)
        timer.start()
        try:
            manager = self.client.request(request.method, request.path, **kwargs)
            expired = not timer.pending
        except gevent.Timeout as exc:
            if exc is not timer:
                raise
            # Not expected (Locust catches it around all of its I/O); never let it kill the user's greenlet.
            raise TimeoutError(_timed_out(request).detail) from None
        finally:
            timer.close()
        return manager, expired


def _plain_headers(headers: Any) -> dict[str, str]:
    """Name → value. Not ``dict(headers)``: geventhttpclient's ``Headers`` maps lowercased names to (name, value)."""
    if not headers:
        return {}
    return {str(name): str(value) for name, value in headers.items()}


def _timed_out(request: HttpRequest) -> TransportFailure:
    return TransportFailure(
        "timeout",
        f"no complete answer within {request.timeout:g} s (the profile's timeout for {request.operation})",
        maybe_sent=True,
    )


def _with_latency(result: Outcome, response_time: Any) -> Outcome:
    return replace(result, latency_ms=float(response_time)) if isinstance(response_time, int | float) else result
