"""Twilio status callbacks for the Twilio facade, driven by the mock's status ladder.

A message created with ``StatusCallback`` gets form-encoded POSTs to that URL, as Twilio sends them: first
``queued`` (from the facade itself), then ``sent``, ``delivered``, ``read`` or ``failed`` as the mock reports them
for the message's wamid. Each POST carries ``MessageSid``, ``SmsSid``, ``MessageStatus``, ``SmsStatus``,
``AccountSid``, ``From``, ``To``, ``ApiVersion``, ``ChannelPrefix`` (and ``ErrorCode`` on ``failed``) and an
``X-Twilio-Signature``: base64 HMAC-SHA1, keyed by the auth token, of the URL followed by every parameter name
and value in name order.

How the facade learns statuses: on the first message with a callback it subscribes itself to the mock's
webhooks (``POST /_mock/subscriptions``, scoped to its phone number id unless it has several, admin token from
``SCRMBENCH_MOCK_ADMIN_TOKEN``), answering the hub.challenge handshake and checking each webhook's
``X-Hub-Signature-256`` with an app secret of its own. The mock plans a message's ladder only for subscriptions
that exist when it accepts the message, so the subscription is made before the message is forwarded. The
subscription is deleted when the facade stops.

A dishonest reference (``CallbackSettings.drop_share``, ``report_dropped_as``, ``fake_read_share``; documented
truth in docs/hosted-vendors.md): the facade acknowledges ``drop_share`` of the messages and never forwards them
(chosen by a hash of the request's text, so a run is repeatable), reports them ``sent`` and ``delivered`` when
``report_dropped_as`` is ``delivered``, and reports ``read`` right after ``delivered`` for ``fake_read_share`` of the
messages (a hash of the wamid, independent of the mock's own read draw); a real ``read`` that follows is dropped
as a repeat.

Callback URLs must be loopback (the facade is a load generator too); others are refused at creation with
Twilio's 21609. Per message, callbacks are POSTed in the order the statuses arrive (a status that arrives before
the facade has the message's wamid waits, for up to ``early_ttl_s``), each status once, without retries; a
status arriving after its message's ``read`` or ``failed`` is dropped.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import zlib
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ground.clock import Clock, SystemClock
from ground.net import is_loopback
from mocks.facades.common import FacadeSettings, json_response, upstream
from mocks.whatsapp.config import DEV_ADMIN_TOKEN, admin_token_from_env
from mocks.whatsapp.webhooks.signing import SIGNATURE_HEADER
from mocks.whatsapp.webhooks.signing import verify as verify_hub_signature

log = logging.getLogger("mocks.facades.twilio")

WEBHOOK_PATH = "/_facade/twilio/mock-webhook"  # where the mock delivers its webhooks to the facade
STATS_PATH = "/_facade/twilio/callbacks"
SIGNATURE = "X-Twilio-Signature"
TERMINAL = frozenset({"read", "failed"})
LADDER = frozenset({"sent", "delivered", "read", "failed"})
# Graph error code of an asynchronous failure -> Twilio error code; anything else 30008 (unknown error).
ASYNC_ERRORS: dict[int, int] = {131026: 63003, 131049: 63049, 131047: 63016, 130472: 63024}


def unit_hash(*parts: object) -> float:
    """A stable number in [0, 1) from ``parts`` (not Python's salted hash())."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's ``X-Twilio-Signature``: base64(HMAC-SHA1(auth token, url + name1 + value1 + name2 + ...))."""
    data = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def callback_refusal(url: str) -> str | None:
    """Why ``url`` cannot be a status callback (None when it can): it must parse as http(s) with a loopback host."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        return f"not a valid URL ({exc})"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return "not an http(s) URL with a host"
    if parsed.port is not None and not 0 < parsed.port < 65_536:
        return "no valid port"
    if not is_loopback(parsed.host):
        return f"the facade only sends status callbacks to loopback, not {parsed.host!r}"
    return None


@dataclass(frozen=True)
class CallbackSettings:
    admin_token: str = DEV_ADMIN_TOKEN  # for the mock's control plane (subscriptions)
    workers: int = 8  # concurrent callback POSTs; one message's callbacks always go through the same worker
    queue_max: int = 10_000  # pending callbacks per worker; beyond it new ones are dropped and counted
    timeout_s: float = 10.0
    tracked_max: int = 100_000  # messages whose statuses are awaited (oldest forgotten first)
    early_max: int = 10_000  # statuses for wamids the facade does not know (yet)
    early_ttl_s: float = 30.0
    resubscribe_s: float = 5.0  # after a failed subscription, wait this long before trying again
    # A dishonest reference (module docstring); all off by default.
    drop_share: float = 0.0
    report_dropped_as: str = "nothing"  # nothing | delivered
    fake_read_share: float = 0.0

    def __repr__(self) -> str:
        return "CallbackSettings([admin token redacted])"

    @classmethod
    def from_env(cls, **behaviour: Any) -> CallbackSettings:
        return cls(admin_token=admin_token_from_env(), **behaviour)

    def drops(self, text: str) -> bool:
        """Whether the dishonest reference acknowledges and drops the message with this text."""
        return self.drop_share > 0 and unit_hash("drop", text) < self.drop_share

    def fakes_read(self, key: str) -> bool:
        return self.fake_read_share > 0 and unit_hash("read", key) < self.fake_read_share


@dataclass
class Tracked:
    """A message whose statuses go to its callback URL."""

    url: str
    params: dict[str, str]  # MessageSid, SmsSid, AccountSid, From, To, ApiVersion, ChannelPrefix
    seen: set[str] = field(default_factory=set)


@dataclass
class Stats:
    subscribed: bool = False
    subscription_error: str = ""
    posted: int = 0  # callbacks the receiver answered with 2xx
    failed: int = 0  # callbacks that got another status or no answer
    dropped: int = 0  # callbacks refused because a worker's queue was full
    unknown_statuses: int = 0  # statuses for wamids never tracked (other clients' messages) that expired
    bad_webhooks: int = 0  # webhook POSTs from the mock with a wrong signature or body


class StatusCallbacks:
    """One per facade app (``app.state.callbacks``), started and stopped by the app's lifespan."""

    def __init__(
        self,
        settings: FacadeSettings,
        config: CallbackSettings,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,  # tests: callbacks to an in-process receiver
    ) -> None:
        self.settings = settings
        self._transport = transport
        self.config = config
        self.clock = clock or SystemClock()
        self.stats = Stats()
        self.verify_token = secrets.token_hex(8)
        self.app_secret = secrets.token_hex(16)
        self.subscription_id: str | None = None
        self._retry_at = 0.0
        self._lock = asyncio.Lock()
        self._tracked: OrderedDict[str, Tracked] = OrderedDict()
        self._early: OrderedDict[str, tuple[float, list[tuple[str, int | None]]]] = OrderedDict()
        self._queues: list[asyncio.Queue[tuple[str, dict[str, str]]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None

    # ---- lifecycle --------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._client = httpx.AsyncClient(trust_env=False, timeout=self.config.timeout_s, transport=self._transport)
        for index in range(self.config.workers):
            queue: asyncio.Queue[tuple[str, dict[str, str]]] = asyncio.Queue(self.config.queue_max)
            self._queues.append(queue)
            self._tasks.append(asyncio.create_task(self._worker(queue), name=f"twilio-callbacks-{index}"))

    async def stop(self, mock: httpx.AsyncClient) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        if self.subscription_id is not None:
            try:
                await mock.delete(f"/_mock/subscriptions/{self.subscription_id}", headers=self._admin(), timeout=5)
            except httpx.HTTPError:
                log.debug("could not delete the mock subscription %s", self.subscription_id, exc_info=True)

    # ---- the subscription to the mock's webhooks ---------------------------------------------------------

    def _admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.admin_token}"}

    async def ensure_subscribed(self, mock: httpx.AsyncClient, server: tuple[str, int] | None) -> bool:
        """Subscribe once (retried at most every ``resubscribe_s`` after a failure); True when subscribed."""
        if self.subscription_id is not None:
            return True
        async with self._lock:
            if self.subscription_id is not None:
                return True
            if self.clock.monotonic() < self._retry_at:
                return False
            error = await self._subscribe(mock, server)
            if error:
                self._retry_at = self.clock.monotonic() + self.config.resubscribe_s
                self.stats.subscription_error = error
                log.warning("twilio facade: no status callbacks beyond 'queued': %s", error)
            return self.subscription_id is not None

    async def _subscribe(self, mock: httpx.AsyncClient, server: tuple[str, int] | None) -> str:
        if server is None:
            return "the facade does not know its own address (no server in the ASGI scope)"
        host, port = server
        host = f"[{host}]" if ":" in host else host
        spec = {
            "callback_url": f"http://{host}:{port}{WEBHOOK_PATH}",
            "verify_token": self.verify_token,
            "app_secret": self.app_secret,
            # Scoped to the facade's number; a facade with several numbers hears every number of the mock.
            "phone_number_id": None if self.settings.numbers else self.settings.phone_number_id,
        }
        try:
            response = await mock.post("/_mock/subscriptions", json=spec, headers=self._admin())
        except httpx.HTTPError as exc:
            return f"cannot reach the mock to subscribe to its webhooks ({type(exc).__name__})"
        if response.status_code != 201:
            return f"the mock refused the webhook subscription: HTTP {response.status_code} {response.text[:200]}"
        body = response.json()
        if not body.get("verified"):
            return f"the mock's handshake with the facade failed: {body.get('verification')}"
        self.subscription_id = str(body["id"])
        self.stats.subscribed, self.stats.subscription_error = True, ""
        return ""

    # ---- statuses in, callbacks out ----------------------------------------------------------------------

    def track(self, wamid: str, url: str, params: dict[str, str]) -> None:
        """A message created with a callback: post ``queued`` now, then what the mock reports for ``wamid``."""
        tracked = Tracked(url, params)
        self._tracked[wamid] = tracked
        while len(self._tracked) > self.config.tracked_max:
            self._tracked.popitem(last=False)
        self._emit(wamid, tracked, "queued", None)
        _, early = self._early.pop(wamid, (0.0, []))
        for status, code in early:
            self.on_status(wamid, status, code)

    def report_dropped(self, sid: str, url: str, params: dict[str, str]) -> None:
        """A message the dishonest reference dropped: ``queued``, then ``sent`` and ``delivered`` if it lies so."""
        key = f"dropped:{sid}"
        self.track(key, url, params)
        if self.config.report_dropped_as == "delivered":
            self.on_status(key, "sent", None)
            self.on_status(key, "delivered", None)

    def on_status(self, wamid: str, status: str, graph_code: int | None) -> None:
        if status not in LADDER:
            return
        tracked = self._tracked.get(wamid)
        if tracked is None:
            self._hold(wamid, status, graph_code)
            return
        self._emit(wamid, tracked, status, graph_code)

    def _hold(self, wamid: str, status: str, graph_code: int | None) -> None:
        """A status for a wamid not (yet) tracked: its Graph answer may still be on its way to the facade."""
        now = self.clock.monotonic()
        while self._early:
            oldest_wamid, (held_at, _) = next(iter(self._early.items()))
            if now - held_at <= self.config.early_ttl_s and len(self._early) < self.config.early_max:
                break
            self._early.pop(oldest_wamid)
            self.stats.unknown_statuses += 1
        self._early.setdefault(wamid, (now, []))[1].append((status, graph_code))

    def _emit(self, wamid: str, tracked: Tracked, status: str, graph_code: int | None) -> None:
        if status in tracked.seen:
            return  # the mock may deliver a webhook twice; Twilio reports a status once
        tracked.seen.add(status)
        if status in TERMINAL:
            self._tracked.pop(wamid, None)
        params = {**tracked.params, "MessageStatus": status, "SmsStatus": status}
        if status == "failed":
            params["ErrorCode"] = str(ASYNC_ERRORS.get(graph_code or 0, 30008))
        queue = self._queues[zlib.crc32(tracked.params["MessageSid"].encode()) % len(self._queues)]
        try:
            queue.put_nowait((tracked.url, params))
        except asyncio.QueueFull:
            self.stats.dropped += 1
        if status == "delivered" and self.config.fakes_read(wamid):
            self._emit(wamid, tracked, "read", None)  # the dishonest reference's inflated read rate

    async def _worker(self, queue: asyncio.Queue[tuple[str, dict[str, str]]]) -> None:
        assert self._client is not None
        while True:
            url, params = await queue.get()
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "TwilioProxy/1.1",
                SIGNATURE: twilio_signature(self.settings.api_key, url, params),
            }
            try:
                response = await self._client.post(url, content=urlencode(params), headers=headers)
            except httpx.HTTPError as exc:
                self.stats.failed += 1
                log.debug("status callback to %s failed: %s", url, type(exc).__name__)
            else:
                if 200 <= response.status_code < 300:
                    self.stats.posted += 1
                else:
                    self.stats.failed += 1
            finally:
                queue.task_done()

    def webhook(self, body: bytes, signature: str | None) -> bool:
        """One webhook POST from the mock; False when its signature or body is wrong."""
        if not verify_hub_signature(self.app_secret, body, signature):
            return False
        try:
            payload = orjson.loads(body)
            changes = [c.get("value", {}) for e in payload.get("entry", []) for c in e.get("changes", [])]
        except (orjson.JSONDecodeError, AttributeError):
            return False
        statuses = [s for v in changes if isinstance(v, dict) for s in v.get("statuses", []) if isinstance(s, dict)]
        for status in statuses:
            errors = status.get("errors") or [{}]
            code = errors[0].get("code") if isinstance(errors[0], dict) else None
            self.on_status(str(status.get("id")), str(status.get("status")), code if isinstance(code, int) else None)
        return True


def callbacks_of(request: Request) -> StatusCallbacks:
    return request.app.state.callbacks  # type: ignore[no-any-return]


async def _handshake(request: Request) -> Response:
    callbacks, query = callbacks_of(request), request.query_params
    if query.get("hub.mode") != "subscribe" or query.get("hub.verify_token") != callbacks.verify_token:
        return PlainTextResponse("verification failed", status_code=403)
    return PlainTextResponse(query.get("hub.challenge", ""))


async def _webhook(request: Request) -> Response:
    callbacks = callbacks_of(request)
    if not callbacks.webhook(await request.body(), request.headers.get(SIGNATURE_HEADER)):
        callbacks.stats.bad_webhooks += 1
        return PlainTextResponse("bad signature or body", status_code=401)
    return PlainTextResponse("ok")


async def _stats(request: Request) -> Response:
    return json_response(vars(callbacks_of(request).stats))


def callback_routes() -> list[Route]:
    return [
        Route(WEBHOOK_PATH, _handshake, methods=["GET"]),
        Route(WEBHOOK_PATH, _webhook, methods=["POST"]),
        Route(STATS_PATH, _stats, methods=["GET"]),
    ]


def callback_service(settings: FacadeSettings, config: CallbackSettings, clock: Clock | None = None) -> Any:
    """The lifespan service of ``build_app``: ``app.state.callbacks`` for as long as the app runs."""

    @asynccontextmanager
    async def service(app: Starlette) -> AsyncIterator[None]:
        callbacks = StatusCallbacks(settings, config, clock)
        app.state.callbacks = callbacks
        await callbacks.start()
        try:
            yield
        finally:
            await callbacks.stop(app.state.upstream.client)

    return service


async def subscribe_for(request: Request) -> bool:
    """Make sure the mock will report this facade's statuses before a message with a callback is forwarded."""
    server = request.scope.get("server")
    address = (str(server[0]), int(server[1])) if server and server[1] is not None else None
    return await callbacks_of(request).ensure_subscribed(upstream(request).client, address)
