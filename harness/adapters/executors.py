"""Executors send an adapter's ``HttpRequest`` and hand the answer back to the adapter to interpret.

``HttpxExecutor`` (sync) and ``AsyncHttpxExecutor`` serve ``vendors check``, tests and asyncio code; they can
report each request through a Locust-style ``events.request`` hook so the recorder sees the same fields as under
Locust. ``harness.adapters.locust_executor`` sends through a Locust user's own client. ``VendorClient`` puts an
adapter and an executor together behind the operation names, after the target-safety check.

No executor follows a redirect, even through a client made with ``follow_redirects=True``: a 3xx is recorded as
the vendor's answer (``base.interpret_answer``), so the load never goes to a host nobody allowed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

import httpx

from ground.net import check_target
from ground.secrets import redact
from harness.adapters.base import (
    Adapter,
    AssignConversation,
    Call,
    Health,
    HttpRequest,
    HttpResponse,
    MediaKind,
    Outcome,
    SearchConversations,
    SendMedia,
    SendTemplate,
    SendText,
    TransportFailure,
    UploadMedia,
    interpret_answer,
    transport_outcome,
)
from harness.adapters.registry import create_adapter


class RequestHook(Protocol):
    """Locust's ``EventHook`` shape: ``fire(**kwargs)``."""

    def fire(self, **kwargs: Any) -> Any: ...


def outcome_context(outcome: Outcome) -> dict[str, Any]:
    """The record fields (ground.records.REQUEST_SCHEMA) an outcome adds to a request's Locust ``context``."""
    return {
        "operation": outcome.operation,
        "outcome": outcome.result,
        "error_kind": outcome.error_kind,
        "error_code": _scrubbed(outcome.error_code),
        "error_text": _scrubbed(outcome.error_text),
        "vendor_message_id": _scrubbed(outcome.vendor_message_id),
        "correlation_id": outcome.correlation_id,
        "bytes_sent": outcome.bytes_sent,
        "http_status": outcome.http_status,
    }


def _scrubbed(text: str | None) -> str | None:
    # Vendor text may quote the credential it was sent (issue 10): never let it leave the process in clear.
    return None if text is None else redact(text)


def failure_message(outcome: Outcome) -> str:
    """The failure text Locust keeps and prints in its error report, with every registered secret scrubbed."""
    text = f"{outcome.result} {outcome.error_kind} {outcome.error_code or ''}: {outcome.error_text or ''}".strip()
    return redact(text)


def _classify(exc: httpx.HTTPError) -> TransportFailure:
    # A refused or unresolved connection never reached the vendor; anything after connecting may have.
    if isinstance(exc, httpx.ConnectTimeout):
        return TransportFailure("timeout", f"connect timeout: {exc}", maybe_sent=False)
    if isinstance(exc, httpx.ConnectError):
        return TransportFailure("transport", f"connect error: {exc}", maybe_sent=False)
    if isinstance(exc, httpx.TimeoutException):
        return TransportFailure("timeout", f"{type(exc).__name__}: {exc}", maybe_sent=True)
    return TransportFailure("transport", f"{type(exc).__name__}: {exc}", maybe_sent=True)


class ReportingExecutor:
    """The base of the executors that time a request themselves: interpret it and report it to ``events.request``."""

    def __init__(self, base_url: str, request_hook: RequestHook | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.request_hook = request_hook

    def _finish(
        self,
        adapter: Adapter,
        request: HttpRequest,
        answer: HttpResponse | TransportFailure,
        started_at: float,
        latency_ms: float,
        context: Mapping[str, Any] | None,
    ) -> Outcome:
        if isinstance(answer, TransportFailure):
            result = transport_outcome(request, answer, latency_ms=latency_ms)
        else:
            result = replace(
                interpret_answer(adapter, request, answer, self.base_url + request.path), latency_ms=latency_ms
            )
        self.report(result, method=request.method, url=self.base_url + request.path, started_at=started_at,
                    context=context, response=answer if isinstance(answer, HttpResponse) else None)  # fmt: skip
        return result

    def report(
        self,
        result: Outcome,
        *,
        method: str,
        url: str,
        started_at: float,
        context: Mapping[str, Any] | None,
        response: HttpResponse | None = None,
    ) -> None:
        """Fire ``events.request`` for one finished request (the recorder's row, Locust's statistics)."""
        if self.request_hook is None:
            return
        self.request_hook.fire(
            request_type=method,
            name=result.operation,
            response_time=result.latency_ms or 0.0,
            response_length=result.bytes_received,
            response=response,
            context={**(context or {}), **outcome_context(result)},
            exception=None if result.ok else RuntimeError(failure_message(result)),
            start_time=started_at,
            url=url,
        )


class HttpxExecutor(ReportingExecutor):
    """Blocking httpx; the caller owns ``client`` when it passes one."""

    def __init__(
        self, base_url: str, *, client: httpx.Client | None = None, request_hook: RequestHook | None = None
    ) -> None:
        super().__init__(base_url, request_hook)
        self.client = client or httpx.Client(trust_env=False)

    def execute(self, adapter: Adapter, request: HttpRequest, context: Mapping[str, Any] | None = None) -> Outcome:
        started_at, start = time.time(), time.perf_counter()
        answer: HttpResponse | TransportFailure
        try:
            response = self.client.request(**_httpx_arguments(self.base_url, request))
            answer = HttpResponse(response.status_code, response.content, dict(response.headers))
        except httpx.HTTPError as exc:
            answer = _classify(exc)
        return self._finish(adapter, request, answer, started_at, (time.perf_counter() - start) * 1000, context)

    def close(self) -> None:
        self.client.close()


def _httpx_arguments(base_url: str, request: HttpRequest) -> dict[str, Any]:
    """One request for httpx's blocking or async client, alike."""
    return {
        "method": request.method,
        "url": base_url + request.path,
        "headers": dict(request.headers),
        "content": request.body or None,
        "timeout": request.timeout,
        "follow_redirects": False,  # a 3xx is the vendor's answer; the load never goes elsewhere
    }


class AsyncHttpxExecutor(ReportingExecutor):
    def __init__(
        self, base_url: str, *, client: httpx.AsyncClient | None = None, request_hook: RequestHook | None = None
    ) -> None:
        super().__init__(base_url, request_hook)
        self.client = client or httpx.AsyncClient(trust_env=False)

    async def execute(
        self, adapter: Adapter, request: HttpRequest, context: Mapping[str, Any] | None = None
    ) -> Outcome:
        started_at, start = time.time(), time.perf_counter()
        answer: HttpResponse | TransportFailure
        try:
            response = await self.client.request(**_httpx_arguments(self.base_url, request))
            answer = HttpResponse(response.status_code, response.content, dict(response.headers))
        except httpx.HTTPError as exc:
            answer = _classify(exc)
        return self._finish(adapter, request, answer, started_at, (time.perf_counter() - start) * 1000, context)

    async def aclose(self) -> None:
        await self.client.aclose()


class SyncExecutor(Protocol):
    def execute(self, adapter: Adapter, request: HttpRequest, context: Mapping[str, Any] | None = None) -> Outcome: ...


class VendorClient:
    """The adapter seam as callers use it: ``client.send_text(to, text, correlation_id=...)`` → ``Outcome``.

    Construction runs the target-safety check, so nothing is sent to a host that is neither loopback nor
    allowlisted and confirmed.
    """

    def __init__(
        self,
        adapter: Adapter,
        executor: SyncExecutor,
        *,
        base_url: str,
        allowed_targets: tuple[str, ...] | list[str] = (),
        owner_confirmed: bool = False,
    ) -> None:
        check_target(base_url, allowed_targets, owner_confirmed=owner_confirmed)
        self.adapter = adapter
        self.executor = executor
        self.capabilities = adapter.capabilities

    def call(self, call: Call, context: Mapping[str, Any] | None = None) -> Outcome:
        return self.executor.execute(self.adapter, self.adapter.build(call), context)

    def send_text(self, to: str, text: str, *, correlation_id: str | None = None, **context: Any) -> Outcome:
        return self.call(SendText(to, text, correlation_id), context)

    def send_template(
        self,
        to: str,
        template: str,
        params: tuple[str, ...] = (),
        *,
        language: str = "en_US",
        correlation_id: str | None = None,
        **context: Any,
    ) -> Outcome:
        return self.call(SendTemplate(to, template, language, tuple(params), correlation_id), context)

    def send_media(
        self,
        to: str,
        kind: MediaKind = "image",
        *,
        media_id: str | None = None,
        link: str | None = None,
        caption: str = "",
        content: bytes | None = None,
        mime_type: str = "image/jpeg",
        filename: str | None = None,
        correlation_id: str | None = None,
        **context: Any,
    ) -> Outcome:
        call = SendMedia(
            to, kind, media_id, link, caption, filename, correlation_id, content=content, mime_type=mime_type
        )
        return self.call(call, context)

    def upload_media(
        self, content: bytes, mime_type: str = "image/jpeg", filename: str = "upload.jpg", **context: Any
    ) -> Outcome:
        return self.call(UploadMedia(content, mime_type, filename), context)

    def search_conversations(self, query: str = "", limit: int = 20, **context: Any) -> Outcome:
        return self.call(SearchConversations(query, limit), context)

    def assign_conversation(self, conversation_id: str, agent: str, **context: Any) -> Outcome:
        return self.call(AssignConversation(conversation_id, agent), context)

    def health(self, **context: Any) -> Outcome:
        return self.call(Health(), context)


def connect(
    profile: Any,
    *,
    owner_confirmed: bool = False,
    client: httpx.Client | None = None,
    request_hook: RequestHook | None = None,
    environ: Mapping[str, str] | None = None,
) -> VendorClient:
    """A ``VendorClient`` over httpx for a validated ``VendorProfile``; refuses unsafe targets first."""
    # The target check comes before reading secrets: a refused run never touches credentials either.
    check_target(profile.base_url, profile.allowed_targets, owner_confirmed=owner_confirmed)
    adapter = create_adapter(profile, environ=environ)
    executor = HttpxExecutor(profile.base_url, client=client, request_hook=request_hook)
    return VendorClient(
        adapter,
        executor,
        base_url=profile.base_url,
        allowed_targets=profile.allowed_targets,
        owner_confirmed=owner_confirmed,
    )
